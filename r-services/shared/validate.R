# Request validation helpers: every failure names the field (JSON path) and the problem (422).

is_number <- function(x) is.numeric(x) && length(x) == 1L && !is.na(x) && is.finite(x)

field_number <- function(obj, name, path = name, default = NULL, min = -Inf, max = Inf, integer = FALSE, nullable = FALSE) {
  value <- obj[[name]]
  if (is.null(value)) {
    if (nullable) return(NA_real_)
    if (!is.null(default)) return(default)
    invalid(path, "is required")
  }
  if (!is_number(value)) invalid(path, "must be a finite number")
  if (integer && value != round(value)) invalid(path, "must be an integer")
  if (value < min) invalid(path, paste("must be >=", min))
  if (value > max) invalid(path, paste("must be <=", max))
  if (integer) as.integer(value) else as.numeric(value)
}

field_string <- function(obj, name, path = name, default = NULL, choices = NULL) {
  value <- obj[[name]]
  if (is.null(value)) {
    if (!is.null(default)) return(default)
    invalid(path, "is required")
  }
  if (!is.character(value) || length(value) != 1L || is.na(value)) invalid(path, "must be a string")
  if (!is.null(choices) && !(value %in% choices)) invalid(path, paste0("must be one of ", paste(choices, collapse = ", ")))
  value
}

field_id <- function(obj, name, path = name) {
  value <- obj[[name]]
  if (is.numeric(value) && length(value) == 1L && !is.na(value)) return(format(value, scientific = FALSE))
  field_string(obj, name, path)
}

field_array <- function(obj, name, path = name, min_length = 0L, default = NULL) {
  value <- obj[[name]]
  if (is.null(value)) {
    if (!is.null(default)) return(default)
    invalid(path, "is required")
  }
  if (!is.list(value) || (length(value) > 0L && !is.null(names(value)))) invalid(path, "must be an array")
  if (length(value) < min_length) invalid(path, paste("must have at least", min_length, "element(s)"))
  value
}

field_object <- function(obj, name, path = name, default = NULL) {
  value <- obj[[name]]
  if (is.null(value)) {
    if (!is.null(default)) return(default)
    invalid(path, "is required")
  }
  if (!is.list(value) || (length(value) > 0L && is.null(names(value)))) invalid(path, "must be an object")
  value
}

field_date <- function(obj, name, path = name, nullable = FALSE) {
  value <- obj[[name]]
  if (is.null(value) && nullable) return(as.Date(NA))
  value <- field_string(obj, name, path)
  date <- tryCatch(as.Date(value, format = "%Y-%m-%d"), error = function(e) NA)
  if (is.na(date) || !grepl("^\\d{4}-\\d{2}-\\d{2}", value)) invalid(path, "must be a date YYYY-MM-DD")
  date
}

field_bool <- function(obj, name, path = name) {
  value <- obj[[name]]
  if (!is.logical(value) || length(value) != 1L || is.na(value)) invalid(path, "must be a boolean")
  value
}

#' The value of each element of an array of objects as a row object, checked to be an object.
element_object <- function(x, path) {
  if (!is.list(x) || (length(x) > 0L && is.null(names(x)))) invalid(path, "must be an object")
  x
}

#' Seconds elapsed since `start` (a proc.time / Sys.time pair).
seconds_since <- function(start) as.numeric(difftime(Sys.time(), start, units = "secs"))
