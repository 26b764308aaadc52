# The publishing side (docs/outbox.md): the outbox relay's identity grants,
# the Cloud Scheduler job that runs its sweep, the outbox collection's TTL,
# indexes and index exemptions, and the alerts on failed rows, on the oldest
# pending row and on a sweep that stopped reporting. The relay function itself
# is one of local.functions (terraform/functions.tf, its identity
# google_service_account.function["relayOutbox"]). The fast path runs inside the
# inventory service (the kit it embeds); this sweep publishes whatever that missed.

# The variables of this file are in outbox_variables.tf, its locals (where the
# outbox lives) in locals.tf.

# The relay joined local.functions: same function, same account, new addresses.
moved {
  from = google_cloudfunctions2_function.relay_outbox
  to   = google_cloudfunctions2_function.function["relayOutbox"]
}

moved {
  from = google_service_account.outbox_relay
  to   = google_service_account.function["relayOutbox"]
}

# Its invoker grant is now part of the authoritative bindings (terraform/iam.tf).
# Forgotten rather than destroyed: destroying a member resource removes the
# member from the policy, which could race the binding that keeps it.
removed {
  from = google_cloud_run_v2_service_iam_member.outbox_scheduler_invokes_relay

  lifecycle {
    destroy = false
  }
}

locals {
  relay_member = "serviceAccount:${google_service_account.function["relayOutbox"].email}"
}

# ---------------------------------------------------------------- identities

# The identity in the scheduler's OIDC token: the only caller of the relay.
resource "google_service_account" "outbox_scheduler" {
  account_id   = "${var.name_prefix}restock-outbox-scheduler"
  display_name = "Restock fan-out: outbox sweep scheduler"
  description  = "Signs the OIDC tokens of the Cloud Scheduler job that runs the outbox sweep."

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic_iam_member" "outbox_relay_publishes" {
  topic  = google_pubsub_topic.inventory_updated.name
  role   = "roles/pubsub.publisher"
  member = local.relay_member
}

# The relay reads and writes the outbox only, in the inventory service's
# database; it never touches the pipeline's. Firestore IAM stops at the
# database: no role or condition can name a collection, so "the outbox only"
# is enforced as closely as IAM allows, on that database only; the code
# touches nothing but RESTOCK_OUTBOX_COLLECTION (and the items' sequence is
# the inventory service's write, never the relay's).
resource "google_project_iam_member" "outbox_relay_firestore" {
  count   = local.outbox_on_firestore ? 1 : 0
  project = local.outbox_project
  role    = "roles/datastore.user"
  member  = local.relay_member

  condition {
    title       = "outbox-database-only"
    description = "Only the Firestore database that holds the outbox."
    expression  = "resource.name == \"projects/${local.outbox_project}/databases/${local.outbox_firestore_database}\""
  }
}

# On Spanner: fine-grained access control instead of roles/spanner.databaseUser,
# which includes spanner.databases.updateDdl (issue 31 item 14). Google's
# "Configure fine-grained access control" (cloud.google.com/spanner/docs/configure-fgac)
# grants a principal roles/spanner.fineGrainedAccessUser on the database and
# roles/spanner.databaseRoleUser conditioned on the database role; the role
# itself carries table privileges in the database's DDL, which the adopter runs
# once (docs/outbox.md): CREATE ROLE restock_outbox_relay;
# GRANT SELECT, UPDATE ON TABLE Outbox TO ROLE restock_outbox_relay.
# A custom role without updateDdl would still admit every table; the database
# role admits reads and updates of the Outbox table and nothing else.
resource "google_spanner_database_iam_member" "outbox_relay_fine_grained_access" {
  count    = local.outbox_on_firestore ? 0 : 1
  project  = local.outbox_project
  instance = var.outbox_spanner_instance
  database = var.outbox_spanner_database
  role     = "roles/spanner.fineGrainedAccessUser"
  member   = local.relay_member
}

resource "google_spanner_database_iam_member" "outbox_relay_database_role" {
  count    = local.outbox_on_firestore ? 0 : 1
  project  = local.outbox_project
  instance = var.outbox_spanner_instance
  database = var.outbox_spanner_database
  role     = "roles/spanner.databaseRoleUser"
  member   = local.relay_member

  condition {
    title       = "outbox-relay-role-only"
    description = "Only the database role that may read and update the Outbox table."
    expression  = "resource.type == \"spanner.googleapis.com/DatabaseRole\" && resource.name.endsWith(\"/databaseRoles/${var.outbox_spanner_database_role}\")"
  }
}

# ---------------------------------------------------------------- the sweep's schedule

resource "google_cloud_scheduler_job" "outbox_sweep" {
  name             = "${local.names.metric_prefix}-outbox-sweep"
  description      = "Runs relayOutbox: publishes outbox rows the fast path missed."
  region           = var.region
  schedule         = var.outbox_schedule
  time_zone        = var.outbox_schedule_time_zone
  attempt_deadline = "${var.function_config.relayOutbox.timeout_seconds}s"

  retry_config {
    retry_count = 0 # the next minute's run is the retry
  }

  # The relay takes internal traffic only: Cloud Scheduler of the same project
  # counts as internal on the run.app URL (cloud.google.com/run/docs/securing/ingress),
  # never on the cloudfunctions.net one (issue 31 item 13).
  http_target {
    http_method = "POST"
    uri         = local.function_urls["relayOutbox"]
    body        = base64encode("{}")
    headers = {
      "Content-Type" = "application/json"
    }

    oidc_token {
      service_account_email = google_service_account.outbox_scheduler.email
      audience              = local.function_urls["relayOutbox"]
    }
  }

  # Calling before the relay and its invoker binding exist only fails.
  depends_on = [
    google_project_service.enabled,
    google_cloudfunctions2_function.function,
    google_cloud_run_v2_service_iam_binding.invokers,
  ]
}

# ---------------------------------------------------------------- Firestore

# Sent rows expire outbox_sent_ttl_days after publishing (expireAt is set by
# the relay; pending and failed rows have none and stay). Not queried, never
# indexed.
resource "google_firestore_field" "outbox_expire_at" {
  count      = local.outbox_on_firestore ? 1 : 0
  project    = local.outbox_project
  database   = local.outbox_firestore_database
  collection = "outbox" # local.outbox_collection, as a literal the index tests can read
  field      = "expireAt"

  ttl_config {}

  index_config {}

  depends_on = [google_firestore_database.pipeline, google_project_service.enabled]
}

# Ever-increasing timestamps: single-field indexes on them only create write
# hot-spots (docs/design.md "Scale"); the sweep and the CLI use the composite
# indexes below instead.
resource "google_firestore_field" "outbox_staged_at" {
  count      = local.outbox_on_firestore ? 1 : 0
  project    = local.outbox_project
  database   = local.outbox_firestore_database
  collection = "outbox" # local.outbox_collection, as a literal the index tests can read
  field      = "stagedAtMs"

  index_config {}

  depends_on = [google_firestore_database.pipeline, google_project_service.enabled]
}

resource "google_firestore_field" "outbox_next_attempt_at" {
  count      = local.outbox_on_firestore ? 1 : 0
  project    = local.outbox_project
  database   = local.outbox_firestore_database
  collection = "outbox" # local.outbox_collection, as a literal the index tests can read
  field      = "nextAttemptAtMs"

  index_config {}

  depends_on = [google_firestore_database.pipeline, google_project_service.enabled]
}

resource "google_firestore_field" "outbox_lease_expires_at" {
  count      = local.outbox_on_firestore ? 1 : 0
  project    = local.outbox_project
  database   = local.outbox_firestore_database
  collection = "outbox" # local.outbox_collection, as a literal the index tests can read
  field      = "leaseExpiresAtMs"

  index_config {}

  depends_on = [google_firestore_database.pipeline, google_project_service.enabled]
}

resource "google_firestore_field" "outbox_published_at" {
  count      = local.outbox_on_firestore ? 1 : 0
  project    = local.outbox_project
  database   = local.outbox_firestore_database
  collection = "outbox" # local.outbox_collection, as a literal the index tests can read
  field      = "publishedAtMs"

  index_config {}

  depends_on = [google_firestore_database.pipeline, google_project_service.enabled]
}

# The sweep: state == pending and nextAttemptAtMs <= now, oldest first.
resource "google_firestore_index" "outbox_due" {
  count       = local.outbox_on_firestore ? 1 : 0
  project     = local.outbox_project
  database    = local.outbox_firestore_database
  collection  = "outbox" # local.outbox_collection, as a literal the index tests can read
  query_scope = "COLLECTION"

  fields {
    field_path = "state"
    order      = "ASCENDING"
  }

  fields {
    field_path = "nextAttemptAtMs"
    order      = "ASCENDING"
  }

  depends_on = [google_firestore_database.pipeline, google_project_service.enabled]
}

# The oldest pending row (the gauge) and `restock outbox list --state`.
resource "google_firestore_index" "outbox_by_state_oldest_first" {
  count       = local.outbox_on_firestore ? 1 : 0
  project     = local.outbox_project
  database    = local.outbox_firestore_database
  collection  = "outbox" # local.outbox_collection, as a literal the index tests can read
  query_scope = "COLLECTION"

  fields {
    field_path = "state"
    order      = "ASCENDING"
  }

  fields {
    field_path = "stagedAtMs"
    order      = "ASCENDING"
  }

  depends_on = [google_firestore_database.pipeline, google_project_service.enabled]
}

# ---------------------------------------------------------------- alerts

locals {
  # The one line per sweep carrying the outbox's gauges (functions/relayOutbox.ts),
  # by the service's short name, as log entries carry it (never the full
  # resource path a function reports as its service: no entry matches that).
  outbox_sweep_filter = join(" AND ", [
    "resource.type=\"cloud_run_revision\"",
    "resource.labels.service_name=\"${local.function_services["relayOutbox"]}\"",
    "jsonPayload.outboxSweep=true",
  ])
}

resource "google_logging_metric" "outbox_failed_rows" {
  name            = "${local.names.metric_prefix}_outbox_failed_rows"
  description     = "Failed outbox rows, as counted by each sweep."
  filter          = local.outbox_sweep_filter
  value_extractor = "EXTRACT(jsonPayload.failedRows)"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "DISTRIBUTION"
    unit         = "1"
    display_name = "Restock outbox failed rows"
  }

  bucket_options {
    exponential_buckets {
      num_finite_buckets = 32
      growth_factor      = 2
      scale              = 1
    }
  }

  depends_on = [google_project_service.enabled]
}

resource "google_logging_metric" "outbox_oldest_pending_age" {
  name            = "${local.names.metric_prefix}_outbox_oldest_pending_age"
  description     = "Age of the oldest pending outbox row, as seen by each sweep."
  filter          = local.outbox_sweep_filter
  value_extractor = "EXTRACT(jsonPayload.oldestPendingAgeMs)"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "DISTRIBUTION"
    unit         = "ms"
    display_name = "Restock outbox oldest pending age"
  }

  bucket_options {
    exponential_buckets {
      num_finite_buckets = 40
      growth_factor      = 2
      scale              = 1
    }
  }

  depends_on = [google_project_service.enabled]
}

resource "google_monitoring_alert_policy" "outbox_failed_rows" {
  display_name          = "${local.names.display}: failed outbox rows"
  combiner              = "OR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "Failed outbox rows > 0"

    condition_threshold {
      filter          = "resource.type = \"cloud_run_revision\" AND metric.type = \"logging.googleapis.com/user/${google_logging_metric.outbox_failed_rows.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_PERCENTILE_99"
      }
    }
  }

  depends_on = [time_sleep.log_metrics_known]

  documentation {
    mime_type = "text/markdown"
    content   = "An outbox row can no longer be published (its reason is recorded). `restock outbox list --state failed`, fix the cause, then `restock outbox redrive <eventId>` or `--all-failed`."
  }

  alert_strategy {
    auto_close = "86400s"
  }
}

resource "google_monitoring_alert_policy" "outbox_oldest_pending" {
  display_name          = "${local.names.display}: outbox rows waiting too long"
  combiner              = "OR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "Oldest pending outbox row older than ${var.alert_outbox_oldest_pending_seconds} s"

    condition_threshold {
      filter          = "resource.type = \"cloud_run_revision\" AND metric.type = \"logging.googleapis.com/user/${google_logging_metric.outbox_oldest_pending_age.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alert_outbox_oldest_pending_seconds * 1000
      duration        = local.alert_duration

      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_PERCENTILE_99"
      }
    }
  }

  depends_on = [time_sleep.log_metrics_known]

  documentation {
    mime_type = "text/markdown"
    content   = "Committed stock changes are not reaching Pub/Sub (Pub/Sub down, the relay failing, or the scheduler stopped). `restock outbox status`, then the relayOutbox logs."
  }

  alert_strategy {
    auto_close = "86400s"
  }
}

# A sweep that stopped (the scheduler paused or deleted, the relay failing to
# start) writes no line, so the two alerts above never see a value and never
# open: absence of the sweep's own line is alerted on instead (issue 30 item 7).
resource "google_monitoring_alert_policy" "outbox_sweep_missing" {
  display_name          = "${local.names.display}: outbox sweep stopped"
  combiner              = "OR"
  notification_channels = var.notification_channels

  conditions {
    display_name = "No outbox sweep reported for ${var.alert_outbox_sweep_missing_seconds} s"

    condition_absent {
      filter   = "resource.type = \"cloud_run_revision\" AND metric.type = \"logging.googleapis.com/user/${google_logging_metric.outbox_oldest_pending_age.name}\""
      duration = "${var.alert_outbox_sweep_missing_seconds}s"

      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_COUNT"
      }
    }
  }

  depends_on = [time_sleep.log_metrics_known]

  documentation {
    mime_type = "text/markdown"
    content   = "No outbox sweep has run: committed stock changes the fast path missed are not being published. Check the Cloud Scheduler job ${google_cloud_scheduler_job.outbox_sweep.name} (paused? failing?) and relayOutbox's logs, then `restock outbox status`."
  }

  alert_strategy {
    auto_close = "86400s"
  }
}
