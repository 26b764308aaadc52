# Alerts that say something an operator must act on. Each one's documentation
# names the CLI command to run first.

# Errors logged by deliverRestockBatch: failed chunks (answered non-2xx so Cloud
# Tasks retries them; Cloud Run logs those requests at ERROR) and the function's
# own ERROR lines.
resource "google_logging_metric" "delivery_failures" {
  name        = "${local.names.metric_prefix}_delivery_failures"
  description = "Errors logged by deliverRestockBatch (failed chunks and error lines)."
  filter = join(" AND ", [
    "resource.type=\"cloud_run_revision\"",
    "resource.labels.service_name=\"${local.function_services["deliverRestockBatch"]}\"",
    "severity>=ERROR",
  ])

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "Restock delivery failures"
  }

  depends_on = [google_project_service.enabled]
}

# A new log-based metric is unknown to Cloud Monitoring for up to 10 minutes,
# and an alert policy on it is refused meanwhile
# (hashicorp/terraform-provider-google#11102): the alerts on log-based metrics
# wait, and so do those on the pipeline's own metric descriptors
# (terraform/metrics.tf), created the same way. The wait runs while the
# functions build, and only when a metric is created or renamed.
resource "time_sleep" "log_metrics_known" {
  create_duration = "${var.log_metric_propagation_seconds}s"

  triggers = {
    metrics = join(",", concat([
      google_logging_metric.delivery_failures.id,
      google_logging_metric.outbox_failed_rows.id,
      google_logging_metric.outbox_oldest_pending_age.id,
    ], [for d in google_monitoring_metric_descriptor.pipeline : d.id]))
  }
}

locals {
  alert_duration = "${var.alert_duration_seconds}s"
}

resource "google_monitoring_alert_policy" "dead_letters" {
  display_name          = "${local.names.display}: events in the dead-letter topic"
  combiner              = "OR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "Undelivered messages on ${google_pubsub_subscription.dead_letter.name} > 0"

    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND resource.labels.subscription_id = \"${google_pubsub_subscription.dead_letter.name}\" AND metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "60s"

      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  # An unsubscribe request applyShopperActions could not apply (email over SMTP only).
  dynamic "conditions" {
    for_each = google_pubsub_subscription.shopper_actions_dead_letter

    content {
      display_name = "Undelivered messages on ${conditions.value.name} > 0"

      condition_threshold {
        filter          = "resource.type = \"pubsub_subscription\" AND resource.labels.subscription_id = \"${conditions.value.name}\" AND metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\""
        comparison      = "COMPARISON_GT"
        threshold_value = 0
        duration        = "60s"

        aggregations {
          alignment_period   = "60s"
          per_series_aligner = "ALIGN_MAX"
        }
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "An inventory event failed fan-out ${var.pubsub_max_delivery_attempts} times and was dead-lettered (`restock dead-letters`: inspect, fix the cause, then replay it), or an unsubscribe request could not be applied (its dead-letter subscription: pull it with gcloud, fix the cause, publish it again to the shopper-actions topic)."
  }

  alert_strategy {
    auto_close = "86400s"
  }
}

resource "google_monitoring_alert_policy" "oldest_unacked_event" {
  display_name          = "${local.names.display}: fan-out is falling behind"
  combiner              = "OR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "Oldest unacked event on ${google_pubsub_subscription.fanout.name} > ${var.alert_oldest_unacked_age_seconds}s"

    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND resource.labels.subscription_id = \"${google_pubsub_subscription.fanout.name}\" AND metric.type = \"pubsub.googleapis.com/subscription/oldest_unacked_message_age\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_oldest_unacked_age_seconds
      duration        = local.alert_duration

      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Events wait longer than expected for fan-out: fanOutRestock is failing or too slow. Check its logs and `restock status`."
  }

  alert_strategy {
    auto_close = "86400s"
  }
}

resource "google_monitoring_alert_policy" "delivery_failures" {
  display_name          = "${local.names.display}: delivery failures"
  combiner              = "OR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "More than ${var.alert_delivery_failures} delivery errors in ${var.alert_duration_seconds}s"

    condition_threshold {
      filter          = "resource.type = \"cloud_run_revision\" AND metric.type = \"logging.googleapis.com/user/${google_logging_metric.delivery_failures.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_delivery_failures
      duration        = "0s"

      aggregations {
        alignment_period     = local.alert_duration
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  depends_on = [time_sleep.log_metrics_known]

  documentation {
    mime_type = "text/markdown"
    content   = "deliverRestockBatch keeps failing (notification service down, token rejected?). Cloud Tasks retries up to ${var.delivery_max_attempts} attempts, then deliveries become exhausted: see `restock status` and redrive with `restock redrive`."
  }

  alert_strategy {
    auto_close = "86400s"
  }
}

resource "google_monitoring_alert_policy" "queue_depth" {
  display_name          = "${local.names.display}: queue backlog"
  combiner              = "OR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "Tasks waiting in a delivery queue (${local.names.queue}*) > ${var.alert_queue_depth}"

    # One series per delivery queue: any of them backing up alerts.
    condition_threshold {
      filter          = "resource.type = \"cloud_tasks_queue\" AND resource.labels.queue_id = monitoring.regex.full_match(\"${join("|", google_cloud_tasks_queue.deliveries[*].name)}\") AND metric.type = \"cloudtasks.googleapis.com/queue/depth\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_queue_depth
      duration        = local.alert_duration

      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  # Continuations (hand-overs, key ranges, waves) wait here, never behind deliveries: a backlog
  # means fan-outs are not progressing (fanOutRestock failing, or at its max instances).
  conditions {
    display_name = "Fan-out continuations waiting (${google_cloud_tasks_queue.continuations.name}) > ${var.alert_continuation_queue_depth}"

    condition_threshold {
      filter          = "resource.type = \"cloud_tasks_queue\" AND resource.labels.queue_id = \"${google_cloud_tasks_queue.continuations.name}\" AND metric.type = \"cloudtasks.googleapis.com/queue/depth\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_continuation_queue_depth
      duration        = local.alert_duration

      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A delivery queue is not draining (deliveries fail and retry, or the rate limits are too low for the audience), or fan-out continuations pile up in the continuation queue (fanOutRestock failing or at its max instances: see its errors and `fanout_max_instances`). Check the delivery failures and failed fan-outs alerts and `restock queues` (every delivery queue and the continuation queue, with their depth)."
  }

  alert_strategy {
    auto_close = "86400s"
  }
}

resource "google_monitoring_alert_policy" "failed_fanouts" {
  display_name          = "${local.names.display}: fan-outs failed"
  combiner              = "OR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "More than ${var.alert_failed_fanouts} failed fan-outs in ${var.alert_duration_seconds}s"

    condition_threshold {
      # fanOutRestock counts each fan-out it records failed as restock.events{outcome="failed"}
      # (lib/metrics): the same fan-outs its `fan-out failed` line reports, counted where they happen.
      # A threshold filter must name the monitored resource type (MetricThreshold.filter,
      # cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.alertPolicies): Cloud Run is not a
      # resource custom metrics may be written to, so the exporter writes generic_task
      # (@google-cloud/opentelemetry-resource-util), its job the service.name lib/metrics sets.
      filter          = "resource.type = \"generic_task\" AND resource.labels.job = \"fanOutRestock\" AND metric.type = \"${google_monitoring_metric_descriptor.pipeline["restock.events"].type}\" AND metric.labels.outcome = \"failed\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_failed_fanouts
      duration        = "0s"

      aggregations {
        alignment_period     = local.alert_duration
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }

  depends_on = [time_sleep.log_metrics_known]

  documentation {
    mime_type = "text/markdown"
    content   = "A fan-out ended failed: its shoppers are not all notified. Find it with the `fan-out failed` log lines (eventKey, productId, error), check `restock status <eventKey>`, fix the cause, then `restock replay <eventKey>`."
  }

  alert_strategy {
    auto_close = "86400s"
  }
}

# Someone made a Cloud Run service or function of this project public
# (issue 31 item 1): a SetIamPolicy that grants allUsers or
# allAuthenticatedUsers, or an update that turns the invoker IAM check off.
# Admin Activity audit logs are always written and cannot be disabled
# (cloud.google.com/run/docs/audit-logging: Services.SetIamPolicy,
# Services.ReplaceService). restockUnsubscribe, public on purpose, is left out.
locals {
  public_invoker_filter = join(" AND ", [
    "logName=\"projects/${var.project_id}/logs/cloudaudit.googleapis.com%2Factivity\"",
    "protoPayload.serviceName=(\"run.googleapis.com\" OR \"cloudfunctions.googleapis.com\")",
    "-protoPayload.resourceName:\"/services/${lower("${var.name_prefix}restockUnsubscribe")}\"",
    "-protoPayload.resourceName:\"/functions/${var.name_prefix}restockUnsubscribe\"",
    join(" OR ", [
      "(protoPayload.methodName:\"SetIamPolicy\" AND protoPayload.request.policy.bindings.members:(\"allUsers\" OR \"allAuthenticatedUsers\"))",
      "protoPayload.request.service.invokerIamDisabled=true",
      "protoPayload.request.service.metadata.annotations.\"run.googleapis.com/invoker-iam-disabled\"=\"true\"",
    ]),
  ])
}

resource "google_monitoring_alert_policy" "public_invoker" {
  display_name          = "${local.names.display}: a service was made public"
  combiner              = "OR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "allUsers or allAuthenticatedUsers granted, or the invoker IAM check disabled, on a Cloud Run service"

    condition_matched_log {
      filter = "(${local.public_invoker_filter})"
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A Cloud Run service or function of this project was opened to the internet (a public invoker, or its invoker IAM check disabled). fanOutRestock and deliverRestockBatch trust the tokens Cloud Run checked: while public, anyone could try forged restocks. Find who did it in the audit log entry, then `terraform apply` (the invoker bindings are authoritative) and `gcloud run services update <service> --invoker-iam-check` if the check was turned off."
  }

  alert_strategy {
    # A log-match condition notifies at most once per period.
    notification_rate_limit {
      period = "300s"
    }
    auto_close = "86400s"
  }

  depends_on = [google_project_service.enabled]
}
