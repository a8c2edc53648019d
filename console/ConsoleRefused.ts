import { Data } from "effect"

/** `seedtest ui` will not start as asked. */
export class ConsoleRefused extends Data.TaggedError("ConsoleRefused")<{
  readonly reason: "PublicWithoutToken"
  readonly host: string
}> {
  override get message(): string {
    return `Refusing to serve the console on ${this.host} without SEEDTEST_UI_TOKEN: anyone who can reach that address could read the run history. Set SEEDTEST_UI_TOKEN, or bind to 127.0.0.1.`
  }
}

/** Whether a bind address only accepts connections from this machine. */
export const isLoopback = (host: string): boolean =>
  host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
