# r-brms-plumber: Rscript r-services/brms/main.R --port N [--cache-dir D] [--families gaussian,student] [--cores C]
#                 Rscript r-services/brms/main.R --prepare-only [--cache-dir D]   (compile the templates and exit)
# Token: R_BRMS_INTERNAL_TOKEN. The compiled template is cached in --cache-dir (default
# $SEEDTEST_DATA_DIR/r-cache, else ./.seedtest/r-cache). On start a cached template loads in about a second;
# without one, the service listens at once (health: ready=false) and a background Rscript compiles it.
Sys.setenv(TZ = "UTC")
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1])))
source(file.path(here, "..", "shared", "http.R"))
source(file.path(here, "..", "shared", "validate.R"))
source(file.path(here, "growth.R"))
source(file.path(here, "marginal.R"))

options <- command_options()
default_cache <- if (nzchar(Sys.getenv("SEEDTEST_DATA_DIR"))) file.path(Sys.getenv("SEEDTEST_DATA_DIR"), "r-cache") else file.path(".seedtest", "r-cache")
cache_dir <- normalizePath(if (is.null(options[["cache-dir"]])) default_cache else options[["cache-dir"]], mustWork = FALSE)
families <- strsplit(if (is.null(options$families)) "gaussian" else options$families, ",")[[1]]
stopifnot(all(families %in% growth_families))
cores <- as.integer(if (is.null(options$cores)) 1L else options$cores)

if (!is.null(options[["prepare-only"]])) {
  for (family in families) {
    path <- template_path(cache_dir, family)
    if (file.exists(path)) {
      message("template ready: ", path)
      next
    }
    result <- tryCatch(compile_template(cache_dir, family), error = function(e) {
      writeLines(conditionMessage(e), paste0(path, ".failed"))
      message("compile failed: ", conditionMessage(e))
      quit(status = 1L)
    })
    message("compiled: ", result)
  }
  quit(status = 0L)
}

token <- service_token("R_BRMS_INTERNAL_TOKEN")

# Service state: templates by family, their status, and how many Stan compilations this instance caused.
state <- new.env()
state$templates <- list()
state$status <- setNames(as.list(rep("missing", length(families))), families)
state$errors <- empty_object()
state$compiles <- 0L
state$started <- Sys.time()

# Count every in-process Stan compilation, so a request that compiled would show up in /health.
invisible(trace("stan_model", where = asNamespace("rstan"), print = FALSE,
  tracer = quote(assign("compiles", get("compiles", envir = .GlobalEnv$state) + 1L, envir = .GlobalEnv$state))))

load_template <- function(family) {
  state$templates[[family]] <- readRDS(template_path(cache_dir, family))
  state$status[[family]] <- "ready"
}

start_background_compile <- function(family) {
  path <- template_path(cache_dir, family)
  unlink(paste0(path, ".failed"))
  state$status[[family]] <- "compiling"
  system2(file.path(R.home("bin"), "Rscript"), c(file.path(here, "main.R"), "--prepare-only", "--cache-dir", shQuote(cache_dir), "--families", family),
    wait = FALSE, stdout = "", stderr = "", env = "TZ=UTC")
  poll <- function() {
    if (file.exists(path)) {
      state$compiles <- state$compiles + 1L
      load_template(family)
      message("template compiled and loaded: ", family)
    } else if (file.exists(paste0(path, ".failed"))) {
      state$status[[family]] <- "failed"
      state$errors[[family]] <- paste(readLines(paste0(path, ".failed")), collapse = "\n")
    } else {
      later::later(poll, 1)
    }
  }
  later::later(poll, 1)
}

for (family in families) {
  if (file.exists(template_path(cache_dir, family))) load_template(family) else start_background_compile(family)
}

health <- function() {
  list(service = "r-brms-plumber", ready = all(unlist(state$status) == "ready"), compiles = state$compiles,
    families = state$status, errors = state$errors, cache_dir = cache_dir, cores = cores,
    versions = list(R = paste(R.version$major, R.version$minor, sep = "."), brms = as.character(packageVersion("brms")),
      rstan = as.character(packageVersion("rstan"))),
    uptime_seconds = seconds_since(state$started))
}

prepared <- function() names(Filter(function(s) identical(s, "ready"), state$status))

router <- build_router(
  list(
    "/growth/fit" = function(body) {
      req <- decode_growth_fit(body, families)
      if (!(req$family %in% prepared())) stop(request_error(503L, "family", sprintf("the compiled model for '%s' is not loaded yet (%s)", req$family, state$status[[req$family]])))
      before <- state$compiles
      fit <- if (req$family == "gaussian") fit_marginal else fit_brms
      out <- fit(req, state$templates[[req$family]], cores)
      out$compiled <- state$compiles > before
      out
    },
    "/growth/predict" = function(body) predict_growth(decode_growth_predict(body), cores)
  ),
  token, health, file.path(here, "openapi.json")
)
serve(router, options)
