import { createServer } from "node:net"
import { Data, Effect } from "effect"

/** No loopback port could be bound (the machine is out of ports, or loopback is unavailable). */
export class NoFreePort extends Data.TaggedError("NoFreePort")<{ readonly cause: unknown }> {
  override get message(): string {
    return `no free loopback port: ${String(this.cause)}`
  }
}

/**
 * A free port on 127.0.0.1, found by binding port 0 and releasing it: for the servers started locally (the embedded
 * database's socket server, the R services as child processes).
 */
export const freeLoopbackPort: Effect.Effect<number, NoFreePort> = Effect.async<number, NoFreePort>((resume) => {
  const server = createServer()
  server.once("error", (cause) => resume(Effect.fail(new NoFreePort({ cause }))))
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})
