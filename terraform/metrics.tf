# The pipeline's own metrics (lib/metrics, docs/metrics.md): the functions
# export OpenTelemetry instruments to Cloud Monitoring as
# workload.googleapis.com/restock.*. This file declares their descriptors,
# lets the functions that record them write, and draws the pipeline's flow on
# one dashboard.

locals {
  metric_prefix = "workload.googleapis.com"

  # One entry per instrument of lib/metrics/otel.ts (INSTRUMENTS): kind, value
  # type and labels exactly as the exporter writes them, so its own
  # descriptor creation finds them equal.
  pipeline_metrics = {
    "restock.notifications" = {
      description = "Notifications by channel and outcome of the attempt (sent, rejected, retried, exhausted)."
      value_type  = "INT64"
      unit        = "1"
      labels      = ["channel", "outcome"]
    }
    "restock.events" = {
      description = "Requests to the fan-out function by outcome (completed, continued, ignored, duplicate, rejected, failed, not-found)."
      value_type  = "INT64"
      unit        = "1"
      labels      = ["outcome"]
    }
    "restock.chunk.duration" = {
      description = "One attempt at a delivery chunk: claim, send, record."
      value_type  = "DISTRIBUTION"
      unit        = "ms"
      labels      = ["settled"]
    }
    "restock.fanout.duration" = {
      description = "A fan-out from its first claim to its end, continuations included."
      value_type  = "DISTRIBUTION"
      unit        = "ms"
      labels      = ["outcome"]
    }
    "restock.queue.lag" = {
      description = "Cloud Tasks dispatch time minus the task schedule time (X-CloudTasks-TaskETA)."
      value_type  = "DISTRIBUTION"
      unit        = "ms"
      labels      = ["task"]
    }
    "restock.outbox.lag" = {
      description = "Outbox: stock change committed to event published."
      value_type  = "DISTRIBUTION"
      unit        = "ms"
      labels      = ["path"]
    }
    # What a restock sold (docs/funnel.md): clicks counted by applyShopperActions, orders by the subscription API.
    "restock.clicks" = {
      description = "Shoppers' first clicks on a notification's tracked link, by channel."
      value_type  = "INT64"
      unit        = "1"
      labels      = ["channel"]
    }
    "restock.conversions" = {
      description = "Orders the storefront reported, by attribution (direct, assisted, unattributed) and the channel credited (none)."
      value_type  = "INT64"
      unit        = "1"
      labels      = ["attribution", "channel"]
    }
    "restock.revenue" = {
      description = "Reported orders' value in each currency's minor units (cents, yen), by currency and attribution."
      value_type  = "INT64"
      unit        = "1"
      labels      = ["currency", "attribution"]
    }
  }

  # The functions that record them: every deployed one but the public restockUnsubscribe, which
  # only publishes what a shopper asked (applyShopperActions counts the clicks, the API the orders).
  metric_writers = { for name, sa in google_service_account.function : name => "serviceAccount:${sa.email}" if name != "restockUnsubscribe" }
}

# Declared before any function writes: an alert policy or a dashboard on a
# metric type Cloud Monitoring has not seen yet is refused (404), and an
# OpenTelemetry metric is only known once first exported. The one name
# name_prefix does not change: the exporter writes these fixed types, so two
# deployments in one project declare the same descriptors (creating an equal
# descriptor again is accepted) and share the dashboard's series.
resource "google_monitoring_metric_descriptor" "pipeline" {
  for_each = local.pipeline_metrics

  type         = "${local.metric_prefix}/${each.key}"
  display_name = each.key
  description  = each.value.description
  metric_kind  = "CUMULATIVE"
  value_type   = each.value.value_type
  unit         = each.value.unit

  dynamic "labels" {
    for_each = each.value.labels
    content {
      key        = labels.value
      value_type = "STRING"
    }
  }

  depends_on = [google_project_service.enabled]
}

resource "google_project_iam_member" "metric_writer" {
  for_each = local.metric_writers

  project = var.project_id
  role    = "roles/monitoring.metricWriter"
  member  = each.value
}

locals {
  # A chart of one instrument: rates for counters, a percentile for
  # distributions, one line per value of `group_by`.
  metric_chart = {
    for name, chart in {
      events = {
        title   = "Events into fan-out, by outcome (per s)", metric = "restock.events", group_by = "outcome",
        aligner = "ALIGN_RATE", reducer = "REDUCE_SUM"
      }
      fanout_p95 = {
        title   = "Fan-out duration p95 (ms), by outcome", metric = "restock.fanout.duration", group_by = "outcome",
        aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_95"
      }
      notifications = {
        title   = "Notifications by outcome (per s)", metric = "restock.notifications", group_by = "outcome",
        aligner = "ALIGN_RATE", reducer = "REDUCE_SUM"
      }
      notifications_by_channel = {
        title   = "Notifications by channel (per s)", metric = "restock.notifications", group_by = "channel",
        aligner = "ALIGN_RATE", reducer = "REDUCE_SUM"
      }
      chunk_p50 = {
        title   = "Chunk latency p50 (ms)", metric = "restock.chunk.duration", group_by = "settled",
        aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_50"
      }
      chunk_p99 = {
        title   = "Chunk latency p99 (ms)", metric = "restock.chunk.duration", group_by = "settled",
        aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_99"
      }
      queue_lag_p95 = {
        title   = "Cloud Tasks queue lag p95 (ms), by task", metric = "restock.queue.lag", group_by = "task",
        aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_95"
      }
      outbox_lag_p95 = {
        title   = "Outbox lag p95, commit to publish (ms), by path", metric = "restock.outbox.lag", group_by = "path",
        aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_95"
      }
      clicks = {
        title   = "Clicks on notifications, by channel (per s)", metric = "restock.clicks", group_by = "channel",
        aligner = "ALIGN_RATE", reducer = "REDUCE_SUM"
      }
      conversions = {
        title   = "Orders reported, by attribution (per s)", metric = "restock.conversions", group_by = "attribution",
        aligner = "ALIGN_RATE", reducer = "REDUCE_SUM"
      }
      revenue = {
        title   = "Revenue in minor units, by currency (per minute)", metric = "restock.revenue", group_by = "currency",
        aligner = "ALIGN_DELTA", reducer = "REDUCE_SUM"
      }
      } : name => {
      title = chart.title
      xyChart = {
        dataSets = [{
          plotType = "LINE"
          timeSeriesQuery = {
            timeSeriesFilter = {
              filter = "metric.type=\"${local.metric_prefix}/${chart.metric}\""
              aggregation = {
                alignmentPeriod    = "60s"
                perSeriesAligner   = chart.aligner
                crossSeriesReducer = chart.reducer
                groupByFields      = ["metric.label.${chart.group_by}"]
              }
            }
          }
        }]
      }
    }
  }
}

# The flow, top to bottom as an event travels: outbox → fan-out → queue →
# delivery → notifications. Alongside, the platform's own view of the queue.
resource "google_monitoring_dashboard" "pipeline" {
  dashboard_json = jsonencode({
    displayName = "${local.names.display} fan-out: pipeline flow"
    mosaicLayout = {
      columns = 12
      tiles = [for i, widget in [
        local.metric_chart.outbox_lag_p95,
        local.metric_chart.events,
        local.metric_chart.fanout_p95,
        local.metric_chart.queue_lag_p95,
        {
          title = "Tasks waiting in the delivery queues"
          xyChart = {
            dataSets = [{
              plotType = "LINE"
              timeSeriesQuery = {
                timeSeriesFilter = {
                  filter      = "resource.type=\"cloud_tasks_queue\" AND resource.labels.queue_id=monitoring.regex.full_match(\"${join("|", google_cloud_tasks_queue.deliveries[*].name)}\") AND metric.type=\"cloudtasks.googleapis.com/queue/depth\""
                  aggregation = { alignmentPeriod = "60s", perSeriesAligner = "ALIGN_MAX" }
                }
              }
            }]
          }
        },
        local.metric_chart.notifications,
        local.metric_chart.notifications_by_channel,
        local.metric_chart.chunk_p50,
        local.metric_chart.chunk_p99,
        # Then what the notifications did: clicks, orders and their value.
        local.metric_chart.clicks,
        local.metric_chart.conversions,
        local.metric_chart.revenue,
        ] : {
        xPos   = (i % 2) * 6
        yPos   = floor(i / 2) * 4
        width  = 6
        height = 4
        widget = widget
      }]
    }
  })

  depends_on = [google_monitoring_metric_descriptor.pipeline]
}
