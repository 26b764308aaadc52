# The queue between fan-out and delivery. Its rate limits are the pressure
# valve toward the notification service (docs/design.md promise 8); its max_attempts
# is the same number deliverRestockBatch is told (RESTOCK_DELIVERY_MAX_ATTEMPTS)
# so the last attempt marks what still fails as exhausted.

resource "google_cloud_tasks_queue" "deliveries" {
  name     = var.queue_name
  location = var.region

  rate_limits {
    max_dispatches_per_second = var.queue_max_dispatches_per_second
    max_concurrent_dispatches = var.queue_max_concurrent_dispatches
  }

  retry_config {
    max_attempts       = var.delivery_max_attempts
    max_retry_duration = "${var.queue_max_retry_duration_seconds}s"
    min_backoff        = "${var.queue_min_backoff_seconds}s"
    max_backoff        = "${var.queue_max_backoff_seconds}s"
    max_doublings      = var.queue_max_doublings
  }

  stackdriver_logging_config {
    sampling_ratio = var.queue_logging_sampling_ratio
  }

  depends_on = [google_project_service.enabled]
}
