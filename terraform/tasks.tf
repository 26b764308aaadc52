# The queues between fan-out and delivery. Their rate limits are the pressure
# valve toward the notification service (docs/design.md promise 8); their
# max_attempts is the same number deliverRestockBatch is told
# (RESTOCK_DELIVERY_MAX_ATTEMPTS) so the last attempt marks what still fails as
# exhausted.
#
# Delivery chunks are spread over delivery_queue_count queues (each chunk's
# queue is a hash of its task id, lib/tasks/queues.ts), so one queue's 500
# dispatches/s is not the pipeline's ceiling: the rate toward the notification
# service is delivery_queue_count x queue_max_dispatches_per_second. The first
# queue keeps queue_name, so raising the count only adds queue_name-1, -2, ...
# beside it (docs/queues.md).

resource "google_cloud_tasks_queue" "deliveries" {
  count = var.delivery_queue_count

  name     = count.index == 0 ? local.names.queue : "${local.names.queue}-${count.index}"
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

# The single queue of earlier versions is the first of the list: no replacement.
moved {
  from = google_cloud_tasks_queue.deliveries
  to   = google_cloud_tasks_queue.deliveries[0]
}

# Fan-out continuations (a long fan-out handing over from its checkpoint) have
# a queue of their own: behind a delivery backlog of a million recipients, the
# rest of the audience would wait for the first chunks to be sent. Few tasks
# (one per fan-out chain per time budget); the same max_attempts as delivery,
# which fanOutRestock reads to know a continuation's last attempt
# (RESTOCK_DELIVERY_MAX_ATTEMPTS).
locals {
  # fanOutRestock serves continuations and Pub/Sub pushes with the same
  # instances. A dispatch that finds no free instance is answered 429 and
  # spends an attempt, and a continuation's last attempt fails its fan-out
  # (issue 30 item 9): the queue keeps at most three quarters of fan-out's
  # request slots busy and leaves the rest to pushes.
  fanout_capacity                        = var.function_config.fanOutRestock.max_instances * var.function_config.fanOutRestock.concurrency
  continuation_max_concurrent_dispatches = max(1, floor(local.fanout_capacity * 3 / 4))
}

resource "google_cloud_tasks_queue" "continuations" {
  name     = local.names.continuation_queue
  location = var.region

  rate_limits {
    max_dispatches_per_second = var.continuation_queue_max_dispatches_per_second
    max_concurrent_dispatches = local.continuation_max_concurrent_dispatches
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
