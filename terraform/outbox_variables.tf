# Variables of the publishing side (terraform/outbox.tf): where the inventory
# service's outbox lives and how the relay sweeps it. Kept apart from
# outbox.tf because locals.tf reads them (test/unit/terraform evaluates
# locals.tf with every *variables.tf file).

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

variable "alert_outbox_sweep_missing_seconds" {
  description = "Alert when no outbox sweep has reported for this long (a stopped scheduler or a relay that no longer starts produces no data, which a threshold never alerts on)."
  type        = number
  default     = 900

  validation {
    condition     = var.alert_outbox_sweep_missing_seconds >= 300 && var.alert_outbox_sweep_missing_seconds <= 86400 && var.alert_outbox_sweep_missing_seconds % 60 == 0
    error_message = "alert_outbox_sweep_missing_seconds must be whole minutes, in seconds, from 300 to 86400."
  }
}

variable "outbox_spanner_database_role" {
  description = "Spanner database role the relay acts as with outbox_backend = spanner (RESTOCK_OUTBOX_SPANNER_DATABASE_ROLE): fine-grained access control, so the relay may only read and update the Outbox table and never run DDL. Create it once in the outbox's database (docs/outbox.md): CREATE ROLE restock_outbox_relay; GRANT SELECT, UPDATE ON TABLE Outbox TO ROLE restock_outbox_relay."
  type        = string
  default     = "restock_outbox_relay"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_]{0,127}$", var.outbox_spanner_database_role))
    error_message = "outbox_spanner_database_role must be a Spanner role name: a letter, then letters, digits and _ (at most 128)."
  }
}
