# r-cluster-plumber: Rscript r-services/cluster/main.R --port N     (token: R_CLUSTER_INTERNAL_TOKEN)
Sys.setenv(TZ = "UTC")
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1])))
source(file.path(here, "..", "shared", "http.R"))
source(file.path(here, "..", "shared", "validate.R"))
source(file.path(here, "segments.R"))

options <- command_options()
token <- service_token("R_CLUSTER_INTERNAL_TOKEN")
started <- Sys.time()

health <- function() list(service = "r-cluster-plumber", ready = TRUE,
  versions = list(R = paste(R.version$major, R.version$minor, sep = "."), cluster = as.character(packageVersion("cluster"))),
  uptime_seconds = seconds_since(started))

router <- build_router(
  list(
    "/cluster/fit" = function(body) fit_segments(decode_cluster_fit(body)),
    "/cluster/predict" = function(body) predict_segments(decode_cluster_predict(body))
  ),
  token, health, file.path(here, "openapi.json")
)
serve(router, options)
