# Learning-pattern segments: k-means on standardised features, k by average silhouette when not given,
# labels derived from each centre's most distinctive standardised feature.
suppressPackageStartupMessages(library(cluster))

# Label for a feature far above (+) or below (-) the cohort mean, in standard deviations.
label_vocabulary <- list(
  improvement = c(high = "improving", low = "declining"),
  engagement = c(high = "highly engaged", low = "disengaged"),
  efficiency = c(high = "efficient", low = "slow"),
  recovery = c(high = "recovering", low = "repeating mistakes"),
  accuracy = c(high = "high achiever", low = "struggling"),
  hint_rate = c(high = "hint-heavy", low = "independent"),
  hints = c(high = "hint-heavy", low = "independent"),
  sessions = c(high = "frequent", low = "infrequent"),
  mean_gap = c(high = "irregular", low = "regular"),
  mean_gap_days = c(high = "irregular", low = "regular"),
  response_time = c(high = "slow", low = "fast")
)

feature_label <- function(feature, direction) {
  vocab <- label_vocabulary[[feature]]
  if (!is.null(vocab)) vocab[[direction]] else paste(direction, feature)
}

decode_features <- function(rows, path, feature_names = NULL) {
  n <- length(rows)
  users <- character(n)
  objects <- lapply(seq_len(n), function(i) element_object(rows[[i]], sprintf("%s[%d]", path, i - 1L)))
  if (is.null(feature_names)) {
    feature_names <- setdiff(unique(unlist(lapply(objects, names))), "user_id")
    if (length(feature_names) == 0L) invalid(path, "rows carry no numeric feature besides user_id")
  }
  x <- matrix(NA_real_, n, length(feature_names), dimnames = list(NULL, feature_names))
  for (i in seq_len(n)) {
    p <- sprintf("%s[%d]", path, i - 1L)
    users[i] <- field_id(objects[[i]], "user_id", paste0(p, ".user_id"))
    for (f in feature_names) x[i, f] <- field_number(objects[[i]], f, paste0(p, ".", f), nullable = TRUE)
  }
  if (anyDuplicated(users)) invalid(path, sprintf("user_id '%s' appears more than once", users[anyDuplicated(users)]))
  list(users = users, x = x)
}

decode_cluster_fit <- function(body) {
  rows <- field_array(body, "features", min_length = 3L)
  feature_names <- if (is.null(body$feature_names)) NULL else vapply(field_array(body, "feature_names", min_length = 1L), function(f) {
    if (!is.character(f) || length(f) != 1L || f == "user_id") invalid("feature_names", "must be an array of feature names (strings)")
    f
  }, character(1))
  decoded <- decode_features(rows, "features", feature_names)
  n <- nrow(decoded$x)
  k <- if (is.null(body$n_clusters)) NA_integer_ else field_number(body, "n_clusters", min = 2, max = n - 1L, integer = TRUE)
  c(decoded, list(
    k = k,
    k_max = field_number(body, "k_max", default = 6L, min = 2, integer = TRUE),
    method = field_string(body, "method", default = "kmeans", choices = c("kmeans")),
    nstart = field_number(body, "nstart", default = 50L, min = 25, max = 1000, integer = TRUE),
    seed = field_number(body, "seed", default = 20240101L, integer = TRUE)
  ))
}

#' Impute missing values with the column mean (z = 0) and scale; constant features are dropped.
scaling_of <- function(x) {
  center <- colMeans(x, na.rm = TRUE)
  scale <- apply(x, 2, sd, na.rm = TRUE)
  list(center = center, scale = scale)
}

apply_scaling <- function(x, center, scale) {
  z <- sweep(sweep(x, 2, center, "-"), 2, scale, "/")
  z[is.na(z)] <- 0
  z
}

#' Average silhouette on at most 2,000 users (fixed sample), so choosing k stays O(2000^2).
silhouette_score <- function(z, assignment, seed) {
  idx <- seq_len(nrow(z))
  if (length(idx) > 2000L) {
    set.seed(seed)
    idx <- sort(sample(idx, 2000L))
  }
  if (length(unique(assignment[idx])) < 2L) return(NA_real_)
  mean(cluster::silhouette(assignment[idx], dist(z[idx, , drop = FALSE]))[, "sil_width"])
}

run_kmeans <- function(z, k, nstart, seed) {
  set.seed(seed)
  stats::kmeans(z, centers = k, nstart = nstart, iter.max = 100L, algorithm = "Hartigan-Wong")
}

#' Unique labels: candidates (cluster, feature, direction) ranked by |z|; each cluster takes its strongest
#' label that is still free. A centre with no feature beyond 0.25 SD is "typical".
derive_labels <- function(centers) {
  k <- nrow(centers)
  candidates <- do.call(rbind, lapply(seq_len(k), function(j) data.frame(cluster = j, feature = colnames(centers),
    z = centers[j, ], stringsAsFactors = FALSE)))
  candidates$label <- mapply(function(f, z) feature_label(f, if (z >= 0) "high" else "low"), candidates$feature, candidates$z)
  # Below average on two or more of the core learning features reads as "struggling" rather than naming one.
  core <- intersect(c("accuracy", "improvement", "engagement", "efficiency", "recovery"), colnames(centers))
  for (j in seq_len(k)) {
    low <- centers[j, core][centers[j, core] <= -0.5]
    if (length(low) >= 2L) {
      candidates <- rbind(candidates, data.frame(cluster = j, feature = "core", z = -1.05 * max(abs(low)), label = "struggling", stringsAsFactors = FALSE))
    }
  }
  candidates <- candidates[order(-abs(candidates$z), candidates$cluster, candidates$feature), ]
  labels <- rep(NA_character_, k)
  for (r in seq_len(nrow(candidates))) {
    j <- candidates$cluster[r]
    if (!is.na(labels[j]) || candidates$label[r] %in% labels) next
    labels[j] <- if (abs(candidates$z[r]) < 0.25) "typical" else candidates$label[r]
  }
  labels[is.na(labels)] <- paste("segment", which(is.na(labels)))
  dup <- duplicated(labels) | duplicated(labels, fromLast = TRUE)
  labels[dup] <- paste(labels[dup], which(dup))
  labels
}

traits_of <- function(center) {
  ordered <- names(sort(abs(center), decreasing = TRUE))
  lapply(ordered[abs(center[ordered]) >= 0.5], function(f) list(feature = f, z = unname(center[f]),
    description = sprintf("%s %s (%+.2f SD)", f, if (center[f] >= 0) "above average" else "below average", center[f])))
}

#' Row j of a matrix as a named vector, also when the matrix has one column.
row_of <- function(m, j) setNames(m[j, ], colnames(m))

fit_segments <- function(req) {
  started <- Sys.time()
  x <- req$x
  sc <- scaling_of(x)
  usable <- colnames(x)[is.finite(sc$scale) & sc$scale > 0]
  warnings <- character(0)
  dropped <- setdiff(colnames(x), usable)
  if (length(dropped)) warnings <- c(warnings, sprintf("feature %s is constant or missing; dropped", dropped))
  if (length(usable) == 0L) invalid("features", "no feature varies across users")
  x <- x[, usable, drop = FALSE]
  center <- sc$center[usable]; scale <- sc$scale[usable]
  z <- apply_scaling(x, center, scale)
  n_distinct <- nrow(unique(round(z, 12)))
  k_scores <- list()
  if (is.na(req$k)) {
    ks <- 2:max(2L, min(req$k_max, n_distinct - 1L))
    scores <- vapply(ks, function(k) silhouette_score(z, run_kmeans(z, k, req$nstart, req$seed)$cluster, req$seed), numeric(1))
    k_scores <- lapply(seq_along(ks), function(i) list(k = ks[i], silhouette = scores[i]))
    k <- ks[which.max(scores)]
    criterion <- "max average silhouette over k = 2..k_max (ties: smaller k)"
  } else {
    k <- req$k
    criterion <- "given"
  }
  km <- run_kmeans(z, k, req$nstart, req$seed)
  # Canonical cluster order (by centre coordinates), so the same data always yields the same numbering.
  ord <- do.call(order, c(lapply(seq_len(ncol(km$centers)), function(j) round(km$centers[, j], 8))))
  centers <- km$centers[ord, , drop = FALSE]
  assignment <- match(km$cluster, ord)
  labels <- derive_labels(centers)
  distance <- sqrt(rowSums((z - centers[assignment, , drop = FALSE])^2))
  sil <- silhouette_score(z, assignment, req$seed)
  list(
    segments = lapply(seq_along(req$users), function(i) list(user_id = req$users[i], cluster = assignment[i],
      segment_label = labels[assignment[i]], distance = distance[i])),
    segment_meta = list(
      method = req$method, n_clusters = k, k_selection = list(criterion = criterion, scores = k_scores),
      features = as.list(usable), nstart = req$nstart, seed = req$seed,
      scaling = list(center = as.list(center), scale = as.list(scale)),
      centers = lapply(seq_len(k), function(j) list(cluster = j, label = labels[j], size = sum(assignment == j),
        center_scaled = as.list(row_of(centers, j)), center_original = as.list(center + row_of(centers, j) * scale),
        traits = traits_of(row_of(centers, j)))),
      metrics = list(silhouette = sil, tot_withinss = km$tot.withinss, betweenss = km$betweenss,
        between_ratio = km$betweenss / km$totss, iterations = km$iter),
      warnings = as.list(warnings)
    ),
    timing = list(total_seconds = seconds_since(started))
  )
}

decode_cluster_predict <- function(body) {
  scaling <- field_object(body, "scaling")
  center_obj <- field_object(scaling, "center", "scaling.center")
  scale_obj <- field_object(scaling, "scale", "scaling.scale")
  features <- names(center_obj)
  if (length(features) == 0L) invalid("scaling.center", "must name at least one feature")
  center <- vapply(features, function(f) field_number(center_obj, f, paste0("scaling.center.", f)), numeric(1))
  scale <- vapply(features, function(f) field_number(scale_obj, f, paste0("scaling.scale.", f), min = 1e-12), numeric(1))
  centers <- field_array(body, "centers", min_length = 1L)
  cmat <- matrix(NA_real_, length(centers), length(features), dimnames = list(NULL, features))
  ids <- integer(length(centers)); labels <- character(length(centers))
  for (j in seq_along(centers)) {
    path <- sprintf("centers[%d]", j - 1L)
    c_ <- element_object(centers[[j]], path)
    ids[j] <- field_number(c_, "cluster", paste0(path, ".cluster"), integer = TRUE)
    labels[j] <- field_string(c_, "label", paste0(path, ".label"))
    cs <- field_object(c_, "center_scaled", paste0(path, ".center_scaled"))
    for (f in features) cmat[j, f] <- field_number(cs, f, paste0(path, ".center_scaled.", f))
  }
  decoded <- decode_features(field_array(body, "features", min_length = 1L), "features", features)
  list(users = decoded$users, x = decoded$x, center = center, scale = scale, centers = cmat, ids = ids, labels = labels)
}

predict_segments <- function(req) {
  z <- apply_scaling(req$x, req$center, req$scale)
  d2 <- sapply(seq_len(nrow(req$centers)), function(j) rowSums(sweep(z, 2, req$centers[j, ], "-")^2))
  d2 <- matrix(d2, nrow = nrow(z))
  nearest <- max.col(-d2, ties.method = "first")
  list(segments = lapply(seq_along(req$users), function(i) list(user_id = req$users[i], cluster = req$ids[nearest[i]],
    segment_label = req$labels[nearest[i]], distance = sqrt(d2[i, nearest[i]]))))
}
