# r-forecast-plumber: Rscript r-services/forecast/main.R --port N [--workers W]
# Token: R_FORECAST_INTERNAL_TOKEN. --workers starts that many worker processes a batch of prophet series is spread over.
# --prophet-path package answers /prophet/fit through prophet's own prophet() + predict() (the reference the default
# `direct` path is measured and tested against: same model and optimizer, about ten times faster).
Sys.setenv(TZ = "UTC")
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1])))
source(file.path(here, "..", "shared", "http.R"))
source(file.path(here, "..", "shared", "validate.R"))
source(file.path(here, "prophet_series.R"))
source(file.path(here, "survival_model.R"))

options <- command_options()
token <- service_token("R_FORECAST_INTERNAL_TOKEN")
workers <- as.integer(if (is.null(options$workers)) 1L else options$workers)
prophet_path <- if (is.null(options[["prophet-path"]])) "direct" else options[["prophet-path"]]
if (!(prophet_path %in% names(prophet_paths))) {
  message("--prophet-path must be one of ", paste(names(prophet_paths), collapse = ", "))
  quit(status = 2L)
}
pool <- prophet_workers(workers, file.path(here, c("../shared/validate.R", "prophet_series.R")))
started <- Sys.time()

health <- function() list(service = "r-forecast-plumber", ready = TRUE, workers = workers, prophet_path = prophet_path,
  versions = list(R = paste(R.version$major, R.version$minor, sep = "."), prophet = as.character(packageVersion("prophet")),
    survival = as.character(packageVersion("survival"))),
  uptime_seconds = seconds_since(started))

router <- build_router(
  list(
    "/prophet/fit" = function(body) fit_prophet_batch(decode_prophet_fit(body), pool, prophet_path),
    "/survival/fit" = function(body) fit_survival(decode_survival_fit(body)),
    "/survival/predict" = function(body) predict_survival(decode_survival_predict(body))
  ),
  token, health, file.path(here, "openapi.json")
)
serve(router, options)
