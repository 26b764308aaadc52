# The publishing side (docs/outbox.md): the outbox relay's sweep function, its
# own identity, the Cloud Scheduler job that calls it, the outbox collection's
# TTL, indexes and index exemptions, and the alerts on failed rows and on the
# oldest pending row. The fast path runs inside the inventory service (the kit
# it embeds); this sweep publishes whatever that missed.

# ---------------------------------------------------------------- variables

locals {
  # The collection of the outbox rows (RESTOCK_OUTBOX_COLLECTION). A literal, so
  # test/unit/terraform/indexes.test.ts can match its indexes to the kit's queries.
  outbox_collection = "outbox"
}

# Where the outbox lives: the inventory service's own database, often in its
# own project (docs/outbox.md "Where the outbox lives"). Unset project and
# Firestore database mean the pipeline's own.
variable "outbox_backend" {
  description = "Database kind of the inventory service's outbox (RESTOCK_OUTBOX_BACKEND): firestore or spanner."
  type        = string
  default     = "firestore"

  validation {
    condition     = contains(["firestore", "spanner"], var.outbox_backend)
    error_message = "outbox_backend must be firestore or spanner."
  }
}

variable "outbox_project_id" {
  description = "Project of the outbox's database (RESTOCK_OUTBOX_PROJECT); empty: project_id. The relay's service account is granted access there, so whoever applies this needs IAM admin on it."
  type        = string
  default     = ""

  validation {
    condition     = var.outbox_project_id == "" || can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.outbox_project_id))
    error_message = "outbox_project_id must be a Google Cloud project id, or empty for project_id."
  }
}

variable "outbox_firestore_database" {
  description = "Firestore database of the outbox with outbox_backend = firestore (RESTOCK_OUTBOX_FIRESTORE_DATABASE); empty: the pipeline's own (firestore_database). It must exist: the inventory service owns it."
  type        = string
  default     = ""

  validation {
    condition     = var.outbox_firestore_database == "" || can(regex("^(\\(default\\)|[a-z][a-z0-9-]{2,61}[a-z0-9])$", var.outbox_firestore_database))
    error_message = "outbox_firestore_database must be a Firestore database id, (default), or empty for the pipeline's own."
  }
}

variable "outbox_spanner_instance" {
  description = "Spanner instance of the outbox with outbox_backend = spanner (RESTOCK_OUTBOX_SPANNER_INSTANCE)."
  type        = string
  default     = ""

  validation {
    condition     = var.outbox_backend != "spanner" || can(regex("^[a-z][a-z0-9-]{0,62}[a-z0-9]$", var.outbox_spanner_instance))
    error_message = "outbox_spanner_instance must name the Spanner instance when outbox_backend is spanner."
  }
}

variable "outbox_spanner_database" {
  description = "Spanner database of the outbox with outbox_backend = spanner (RESTOCK_OUTBOX_SPANNER_DATABASE); it holds the Outbox table of SPANNER_OUTBOX_DDL."
  type        = string
  default     = ""

  validation {
    condition     = var.outbox_backend != "spanner" || can(regex("^[a-z][a-z0-9_-]{0,28}[a-z0-9]$", var.outbox_spanner_database))
    error_message = "outbox_spanner_database must name the Spanner database when outbox_backend is spanner."
  }
}

locals {
  outbox_project            = var.outbox_project_id != "" ? var.outbox_project_id : var.project_id
  outbox_on_firestore       = var.outbox_backend == "firestore"
  outbox_firestore_database = var.outbox_firestore_database != "" ? var.outbox_firestore_database : local.firestore_database
}

variable "outbox_schedule" {
  description = "How often Cloud Scheduler runs the sweep (cron, in outbox_schedule_time_zone)."
  type        = string
  default     = "* * * * *"

  validation {
    condition     = length(split(" ", trimspace(var.outbox_schedule))) == 5
    error_message = "outbox_schedule must be a five-field cron expression."
  }
}

variable "outbox_schedule_time_zone" {
  description = "Time zone of outbox_schedule."
  type        = string
  default     = "Etc/UTC"

  validation {
    condition     = length(var.outbox_schedule_time_zone) > 0
    error_message = "outbox_schedule_time_zone must be a tz database name such as Etc/UTC."
  }
}

variable "outbox_relay_timeout_seconds" {
  description = "Time limit of one sweep request; the sweep stops claiming 15 s before it."
  type        = number
  default     = 60

  validation {
    condition     = var.outbox_relay_timeout_seconds >= 30 && var.outbox_relay_timeout_seconds <= 3600
    error_message = "outbox_relay_timeout_seconds must be between 30 and 3600."
  }
}

variable "outbox_publish_timeout_ms" {
  description = "Timeout of one publish attempt of one row (RESTOCK_OUTBOX_PUBLISH_TIMEOUT_MS)."
  type        = number
  default     = 10000

  validation {
    condition     = var.outbox_publish_timeout_ms >= 100
    error_message = "outbox_publish_timeout_ms must be at least 100."
  }
}

variable "outbox_lease_ms" {
  description = "How long a relay holds a claimed row (RESTOCK_OUTBOX_LEASE_MS)."
  type        = number
  default     = 60000

  validation {
    condition     = var.outbox_lease_ms >= 1000
    error_message = "outbox_lease_ms must be at least 1000 (and well above outbox_publish_timeout_ms)."
  }
}

variable "outbox_max_attempts" {
  description = "Failed publishes before a row becomes failed (RESTOCK_OUTBOX_MAX_ATTEMPTS)."
  type        = number
  default     = 20

  validation {
    condition     = var.outbox_max_attempts >= 1 && var.outbox_max_attempts <= 1000
    error_message = "outbox_max_attempts must be between 1 and 1000."
  }
}

variable "outbox_backoff_min_ms" {
  description = "Wait after a row's first failed publish (RESTOCK_OUTBOX_BACKOFF_MIN_MS)."
  type        = number
  default     = 1000

  validation {
    condition     = var.outbox_backoff_min_ms >= 1
    error_message = "outbox_backoff_min_ms must be at least 1."
  }
}

variable "outbox_backoff_max_ms" {
  description = "Longest wait between publish attempts of a row (RESTOCK_OUTBOX_BACKOFF_MAX_MS)."
  type        = number
  default     = 300000

  validation {
    condition     = var.outbox_backoff_max_ms >= 1
    error_message = "outbox_backoff_max_ms must be at least 1."
  }
}

variable "outbox_batch_size" {
  description = "Rows a sweep claims per transaction (RESTOCK_OUTBOX_BATCH_SIZE)."
  type        = number
  default     = 100

  validation {
    condition     = var.outbox_batch_size >= 1 && var.outbox_batch_size <= 500
    error_message = "outbox_batch_size must be between 1 and 500."
  }
}

variable "outbox_sent_ttl_days" {
  description = "Days a sent outbox row is kept before TTL deletes it (RESTOCK_OUTBOX_SENT_TTL_DAYS)."
  type        = number
  default     = 7

  validation {
    condition     = var.outbox_sent_ttl_days >= 1
    error_message = "outbox_sent_ttl_days must be at least 1."
  }
}

variable "alert_outbox_oldest_pending_seconds" {
  description = "Alert when the oldest pending outbox row is older than this."
  type        = number
  default     = 300

  validation {
    condition     = var.alert_outbox_oldest_pending_seconds >= 60
    error_message = "alert_outbox_oldest_pending_seconds must be at least 60."
  }
}

# ---------------------------------------------------------------- identities

# The relay's runtime identity: publish on the topic, read and write Firestore.
resource "google_service_account" "outbox_relay" {
  account_id   = "restock-outbox-relay"
  display_name = "Restock fan-out: relayOutbox runtime"
  description  = "Publishes pending outbox rows to the inventory-updated topic."

  depends_on = [google_project_service.enabled]
}

# The identity in the scheduler's OIDC token: the only caller of the relay.
resource "google_service_account" "outbox_scheduler" {
  account_id   = "restock-outbox-scheduler"
  display_name = "Restock fan-out: outbox sweep scheduler"
  description  = "Signs the OIDC tokens of the Cloud Scheduler job that runs the outbox sweep."

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic_iam_member" "outbox_relay_publishes" {
  topic  = google_pubsub_topic.inventory_updated.name
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.outbox_relay.email}"
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
  member  = "serviceAccount:${google_service_account.outbox_relay.email}"

  condition {
    title       = "outbox-database-only"
    description = "Only the Firestore database that holds the outbox."
    expression  = "resource.name == \"projects/${local.outbox_project}/databases/${local.outbox_firestore_database}\""
  }
}

# On Spanner: read and write data of the outbox's database only (no DDL, no other database).
resource "google_spanner_database_iam_member" "outbox_relay_spanner" {
  count    = local.outbox_on_firestore ? 0 : 1
  project  = local.outbox_project
  instance = var.outbox_spanner_instance
  database = var.outbox_spanner_database
  role     = "roles/spanner.databaseUser"
  member   = "serviceAccount:${google_service_account.outbox_relay.email}"
}

# ---------------------------------------------------------------- the function

resource "google_cloudfunctions2_function" "relay_outbox" {
  name        = "relayOutbox"
  location    = var.region
  description = "Publishes the outbox rows the inventory service's fast path missed (the sweep)."

  build_config {
    runtime           = var.runtime
    entry_point       = "relayOutbox"
    service_account   = google_service_account.build.id
    docker_repository = google_artifact_registry_repository.functions.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    available_memory               = "256Mi"
    timeout_seconds                = var.outbox_relay_timeout_seconds
    max_instance_count             = 1 # one sweep at a time is plenty; two would only contend for rows
    min_instance_count             = 0
    ingress_settings               = "ALLOW_ALL"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.outbox_relay.email

    environment_variables = merge(local.shared_env, local.platform_env, {
      RESTOCK_OUTBOX_TOPIC              = google_pubsub_topic.inventory_updated.name
      RESTOCK_OUTBOX_COLLECTION         = local.outbox_collection
      RESTOCK_OUTBOX_PUBLISH_TIMEOUT_MS = tostring(var.outbox_publish_timeout_ms)
      RESTOCK_OUTBOX_LEASE_MS           = tostring(var.outbox_lease_ms)
      RESTOCK_OUTBOX_MAX_ATTEMPTS       = tostring(var.outbox_max_attempts)
      RESTOCK_OUTBOX_BACKOFF_MIN_MS     = tostring(var.outbox_backoff_min_ms)
      RESTOCK_OUTBOX_BACKOFF_MAX_MS     = tostring(var.outbox_backoff_max_ms)
      RESTOCK_OUTBOX_BATCH_SIZE         = tostring(var.outbox_batch_size)
      RESTOCK_OUTBOX_SWEEP_BUDGET_MS    = tostring((var.outbox_relay_timeout_seconds - 15) * 1000)
      RESTOCK_OUTBOX_SENT_TTL_DAYS      = tostring(var.outbox_sent_ttl_days)
      RESTOCK_OUTBOX_BACKEND            = var.outbox_backend
      RESTOCK_OUTBOX_PROJECT            = local.outbox_project
      RESTOCK_OUTBOX_FIRESTORE_DATABASE = local.outbox_on_firestore ? local.outbox_firestore_database : ""
      RESTOCK_OUTBOX_SPANNER_INSTANCE   = var.outbox_spanner_instance
      RESTOCK_OUTBOX_SPANNER_DATABASE   = var.outbox_spanner_database
    })
  }

  depends_on = [
    google_project_service.enabled,
    time_sleep.iam_propagation,
    google_project_iam_member.outbox_relay_firestore,
    google_spanner_database_iam_member.outbox_relay_spanner,
    google_pubsub_topic_iam_member.outbox_relay_publishes,
    google_firestore_database.pipeline,
  ]
}

resource "google_cloud_run_v2_service_iam_member" "outbox_scheduler_invokes_relay" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.relay_outbox.service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.outbox_scheduler.email}"
}

# ---------------------------------------------------------------- the sweep's schedule

resource "google_project_service" "outbox_scheduler" {
  project            = var.project_id
  service            = "cloudscheduler.googleapis.com"
  disable_on_destroy = false

  # After the project's own APIs (serviceusage among them), like every Google resource here.
  depends_on = [google_project_service.enabled]
}

resource "google_cloud_scheduler_job" "outbox_sweep" {
  name             = "restock-outbox-sweep"
  description      = "Runs relayOutbox: publishes outbox rows the fast path missed."
  region           = var.region
  schedule         = var.outbox_schedule
  time_zone        = var.outbox_schedule_time_zone
  attempt_deadline = "${var.outbox_relay_timeout_seconds}s"

  retry_config {
    retry_count = 0 # the next minute's run is the retry
  }

  http_target {
    http_method = "POST"
    uri         = google_cloudfunctions2_function.relay_outbox.url
    body        = base64encode("{}")
    headers = {
      "Content-Type" = "application/json"
    }

    oidc_token {
      service_account_email = google_service_account.outbox_scheduler.email
      audience              = google_cloudfunctions2_function.relay_outbox.url
    }
  }

  depends_on = [google_project_service.enabled, google_project_service.outbox_scheduler]
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
# hot-spots (DESIGN.md "Scale"); the sweep and the CLI use the composite
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
  # The one line per sweep carrying the outbox's gauges (functions/relayOutbox.ts).
  outbox_sweep_filter = join(" AND ", [
    "resource.type=\"cloud_run_revision\"",
    "resource.labels.service_name=\"${google_cloudfunctions2_function.relay_outbox.service_config[0].service}\"",
    "jsonPayload.outboxSweep=true",
  ])
}

resource "google_logging_metric" "outbox_failed_rows" {
  name            = "restock_outbox_failed_rows"
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
  name            = "restock_outbox_oldest_pending_age"
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
  display_name          = "Restock: failed outbox rows"
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
  display_name          = "Restock: outbox rows waiting too long"
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
