# Shared HTTP plumbing for the three plumber services: token check, JSON in/out, typed error answers.
suppressPackageStartupMessages({
  library(plumber)
  library(jsonlite)
})

Sys.setenv(TZ = "UTC")

#' An error the client caused: answered with `status` and a JSON body naming the field and the problem.
request_error <- function(status, field, problem) {
  structure(
    class = c("request_error", "error", "condition"),
    list(message = paste0(field, ": ", problem), call = NULL, status = status, field = field, problem = problem)
  )
}

#' Stop with a 422 (well-formed JSON, semantically invalid) naming the field.
invalid <- function(field, problem) stop(request_error(422L, field, problem))

#' Serialise to JSON keeping full double precision and writing NA/NULL as null.
to_json <- function(x) {
  jsonlite::toJSON(x, auto_unbox = TRUE, digits = NA, na = "null", null = "null", POSIXt = "ISO8601", Date = "ISO8601")
}

#' A list that serialises as `{}` rather than `[]`.
empty_object <- function() setNames(list(), character(0))

json_response <- function(res, status, body) {
  res$status <- status
  res$setHeader("Content-Type", "application/json")
  res$body <- as.character(to_json(body))
  res
}

#' Constant-time comparison of two strings: no early exit on the first differing byte.
constant_time_equals <- function(given, expected) {
  a <- charToRaw(enc2utf8(given))
  b <- charToRaw(enc2utf8(expected))
  n <- max(length(a), length(b), 1L)
  pad <- function(x) c(x, as.raw(rep(0L, n - length(x))))
  diff <- sum(as.integer(xor(pad(a), pad(b))))
  (diff == 0L) & (length(a) == length(b))
}

#' The token a request presents: `X-Internal-Token`, else `Authorization: Bearer <token>`.
presented_token <- function(req) {
  header <- req$HTTP_X_INTERNAL_TOKEN
  if (!is.null(header) && nzchar(header)) return(header)
  auth <- req$HTTP_AUTHORIZATION
  if (!is.null(auth) && grepl("^Bearer\\s+", auth, ignore.case = TRUE)) return(sub("^Bearer\\s+", "", auth, ignore.case = TRUE))
  NULL
}

#' Parse the raw request body as JSON (lists, not simplified) or answer 400.
parse_json_body <- function(req) {
  raw <- req$bodyRaw
  if (is.null(raw) || length(raw) == 0L) stop(request_error(400L, "body", "request body is empty; expected a JSON object"))
  text <- rawToChar(raw)
  Encoding(text) <- "UTF-8"
  body <- tryCatch(jsonlite::parse_json(text, simplifyVector = FALSE),
    error = function(e) stop(request_error(400L, "body", paste0("malformed JSON: ", conditionMessage(e))))
  )
  if (!is.list(body) || (length(body) > 0L && is.null(names(body)))) {
    stop(request_error(400L, "body", "expected a JSON object at the top level"))
  }
  body
}

#' Wrap a model handler `function(body)` into a plumber handler that checks the token, parses and
#' validates the body, and maps failures to 400/401/422/500 JSON answers.
model_endpoint <- function(token, handler) {
  force(token)
  force(handler)
  function(req, res) {
    given <- presented_token(req)
    if (is.null(given) || !constant_time_equals(given, token)) {
      return(json_response(res, 401L, list(error = "unauthorized", message = "missing or wrong internal token")))
    }
    started <- Sys.time()
    tryCatch(
      {
        body <- parse_json_body(req)
        answered <- json_response(res, 200L, handler(body))
        # the service's own time for the request (parse, validate, compute, serialise), so a client can tell it
        # apart from the time on the wire (https://www.w3.org/TR/server-timing/)
        answered$setHeader("Server-Timing", sprintf("r;dur=%.1f", 1000 * as.numeric(difftime(Sys.time(), started, units = "secs"))))
        answered
      },
      request_error = function(e) {
        json_response(res, e$status, list(error = switch(as.character(e$status), "400" = "bad_request", "503" = "not_ready", "invalid_request"),
                                          field = e$field, message = e$problem))
      },
      error = function(e) {
        json_response(res, 500L, list(error = "model_failure", message = conditionMessage(e)))
      }
    )
  }
}

#' Build a router with `/health`, `/openapi.json` (the spec file generated from the TypeScript schemas, see
#' r-services/openapi.ts) and token-protected POST endpoints.
build_router <- function(endpoints, token, health, spec_path) {
  pr <- plumber::pr()
  pr <- plumber::pr_set_docs(pr, FALSE)
  # answered requests per endpoint since start, in /health: which replica did how much of a run's work
  served <- new.env()
  for (path in names(endpoints)) served[[path]] <- 0L
  pr <- plumber::pr_get(pr, "/health", function(req, res) {
    json_response(res, 200L, c(health(), list(requests = as.list(served)[names(endpoints)])))
  })
  spec_json <- if (file.exists(spec_path)) paste(readLines(spec_path, warn = FALSE), collapse = "\n") else "{}"
  pr <- plumber::pr_get(pr, "/openapi.json", function(req, res) {
    res$status <- 200L
    res$setHeader("Content-Type", "application/json")
    res$body <- spec_json
    res
  })
  counted <- function(path) {
    handler <- endpoints[[path]]
    function(body) {
      out <- handler(body)
      served[[path]] <- served[[path]] + 1L
      out
    }
  }
  for (path in names(endpoints)) {
    pr <- plumber::pr_post(pr, path, model_endpoint(token, counted(path)),
      parsers = "octet")
  }
  pr <- plumber::pr_set_404(pr, function(req, res) json_response(res, 404L, list(error = "not_found", message = paste("no endpoint", req$PATH_INFO))))
  pr <- plumber::pr_set_error(pr, function(req, res, err) json_response(res, 500L, list(error = "model_failure", message = conditionMessage(err))))
  pr
}

#' Command-line options `--port N --host H --cache-dir D ...` as a named list of strings.
command_options <- function(args = commandArgs(trailingOnly = TRUE)) {
  out <- list()
  i <- 1L
  while (i <= length(args)) {
    key <- sub("^--", "", args[[i]])
    if (grepl("=", key)) {
      out[[sub("=.*", "", key)]] <- sub("^[^=]*=", "", key)
      i <- i + 1L
    } else {
      out[[key]] <- if (i < length(args)) args[[i + 1L]] else ""
      i <- i + 2L
    }
  }
  out
}

#' The service token from its environment variable; refuse to start without one.
service_token <- function(var) {
  token <- Sys.getenv(var, "")
  if (!nzchar(token)) {
    message(var, " is not set; refusing to start without an internal token")
    quit(status = 2L)
  }
  token
}

#' With `--parent-pid P`, kill this service's process group (itself and every worker it forks) once process P is
#' gone: a service started by a CLI that was killed (SIGKILL runs no cleanup) must not keep its port. A shell loop
#' checks once a second outside R's event loop, so a long fit does not delay it; it starts before the server listens,
#' so it never holds the port itself.
watch_parent <- function(options) {
  parent <- suppressWarnings(as.integer(options[["parent-pid"]]))
  if (length(parent) == 0L || is.na(parent)) return(invisible(NULL))
  me <- Sys.getpid()
  script <- sprintf("while kill -0 %d 2>/dev/null; do sleep 1; done; kill -KILL -%d 2>/dev/null || kill -KILL %d", parent, me, me)
  system2("sh", c("-c", shQuote(script)), stdout = FALSE, stderr = FALSE, wait = FALSE)
  invisible(NULL)
}

#' Run the router on loopback (or `--host`) at `--port`.
serve <- function(pr, options, default_port = 8080L) {
  watch_parent(options)
  port <- as.integer(if (is.null(options$port)) Sys.getenv("PORT", default_port) else options$port)
  host <- if (is.null(options$host)) "127.0.0.1" else options$host
  message(sprintf("listening on http://%s:%d", host, port))
  plumber::pr_run(pr, host = host, port = port, docs = FALSE, quiet = TRUE)
}
