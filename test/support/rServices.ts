import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Effect } from "effect"

export {
  platformLayer,
  type RServiceName,
  type RunningRService,
  repositoryRoot,
  serviceTokens,
  sharedCacheDir,
  startRService
} from "../../stages/models/LocalRServices.ts"

/** A raw POST (for bodies the typed clients cannot produce, like malformed JSON): status and text. */
export const rawPost = (url: string, body: string, headers: Record<string, string>) =>
  Effect.gen(function* () {
    const http = yield* HttpClient.HttpClient
    const res = yield* http.execute(
      HttpClientRequest.post(url).pipe(
        HttpClientRequest.setHeaders(headers),
        HttpClientRequest.bodyText(body, "application/json")
      )
    )
    return { status: res.status, text: yield* res.text }
  }).pipe(Effect.scoped)
