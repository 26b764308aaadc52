# What each function is and what it is told. The environment maps below are the
# single place where Terraform variables become the settings of lib/config.ts;
# test/unit/terraform/ checks them against SETTINGS so a new setting cannot be
# forgotten here.

locals {
  # The functions deployed, keyed by the name each registers with
  # functions-framework (functions/<name>.ts); the key is also the entry point.
  functions = {
    fanOutRestock = {
      description     = "Turns a restock event into chunked delivery tasks."
      memory          = var.fanout_memory
      timeout_seconds = var.fanout_timeout_seconds
      max_instances   = var.fanout_max_instances
      min_instances   = var.fanout_min_instances
      ingress         = var.fanout_ingress
      cpu             = null
      concurrency     = 1
      account_id      = "restock-fanout"
    }
    deliverRestockBatch = {
      description     = "Sends the notifications of one chunk, exactly once per recipient."
      memory          = var.delivery_memory
      timeout_seconds = var.delivery_timeout_seconds
      max_instances   = var.delivery_max_instances
      min_instances   = var.delivery_min_instances
      ingress         = var.delivery_ingress
      cpu             = var.delivery_cpu
      concurrency     = var.delivery_concurrency
      account_id      = "restock-delivery"
    }
    restockSubscriptions = {
      description     = "HTTP API storefronts use to subscribe, unsubscribe and list."
      memory          = var.subscriptions_memory
      timeout_seconds = var.subscriptions_timeout_seconds
      max_instances   = var.subscriptions_max_instances
      min_instances   = 0
      ingress         = var.subscriptions_ingress
      cpu             = var.subscriptions_cpu
      concurrency     = var.subscriptions_concurrency
      account_id      = "restock-subscriptions"
    }
    # Public: the one-click unsubscribe link of every email (terraform/channels.tf).
    restockUnsubscribe = {
      description     = "One-click unsubscribe links of restock emails (RFC 8058); public, token-verified."
      memory          = var.unsubscribe_memory
      timeout_seconds = var.unsubscribe_timeout_seconds
      max_instances   = var.unsubscribe_max_instances
      min_instances   = 0
      ingress         = var.unsubscribe_ingress
      cpu             = null
      concurrency     = 1
      account_id      = "restock-unsubscribe"
    }
  }

  project_number = data.google_project.this.number

  # Every caller inside the pipeline (Pub/Sub push, delivery and continuation
  # tasks, the CLI's replays) targets each function's deterministic run.app
  # URL, https://<service>-<project number>.<region>.run.app: Cloud Run counts
  # Pub/Sub and Cloud Tasks of the same project as internal traffic only on
  # the default run.app URL (cloud.google.com/run/docs/securing/ingress), so
  # the cloudfunctions.net address would be refused by ALLOW_INTERNAL_ONLY
  # ingress. The URL is known before the service exists (the service is the
  # lower-cased function name), which lets fan-out be told its own URL and
  # delivery its own audience without a dependency cycle.
  function_urls = {
    for name in keys(local.functions) : name => "https://${lower(name)}-${local.project_number}.${var.region}.run.app"
  }

  # Leaves room to checkpoint and enqueue the continuation before the platform
  # kills the request.
  fanout_time_budget_ms = (var.fanout_timeout_seconds - var.fanout_time_budget_margin_seconds) * 1000

  # Settings every function reads.
  shared_env = {
    GOOGLE_CLOUD_PROJECT       = var.project_id
    LOG_LEVEL                  = var.log_level
    RESTOCK_MAX_BODY_BYTES     = tostring(var.max_body_bytes)
    RESTOCK_FIRESTORE_DATABASE = var.firestore_database
    # OpenTelemetry metrics to Cloud Monitoring (lib/metrics, terraform/metrics.tf).
    RESTOCK_METRICS_EXPORTER           = var.metrics_exporter
    RESTOCK_METRICS_EXPORT_INTERVAL_MS = tostring(var.metrics_export_interval_ms)
  }

  # Read by the platform, not lib/config.ts, and given as they are: unlike the
  # settings above, an empty value here means something.
  platform_env = {
    LOG_EXECUTION_ID = "true"
    # functions-framework answers /favicon.ico and /robots.txt itself unless
    # IGNORED_ROUTES is set; empty hands every path to the function, so even
    # those get problem+json.
    IGNORED_ROUTES = ""
  }

  # Settings that only matter to one function.
  function_env = {
    fanOutRestock = {
      RESTOCK_TASKS_LOCATION     = var.region
      RESTOCK_TASKS_QUEUE        = var.queue_name
      RESTOCK_TASKS_QUEUE_COUNT  = tostring(var.delivery_queue_count)
      RESTOCK_CONTINUATION_QUEUE = var.continuation_queue_name
      # The continuation queue's max_attempts: fan-out ends a fan-out failed on a continuation's last attempt.
      RESTOCK_DELIVERY_MAX_ATTEMPTS  = tostring(var.delivery_max_attempts)
      RESTOCK_TASKS_SERVICE_ACCOUNT  = google_service_account.tasks_invoker.email
      RESTOCK_PUSH_SERVICE_ACCOUNT   = google_service_account.pubsub_push.email
      RESTOCK_DELIVERY_URL           = local.function_urls["deliverRestockBatch"]
      RESTOCK_FANOUT_URL             = local.function_urls["fanOutRestock"]
      RESTOCK_THRESHOLD              = tostring(var.restock_threshold)
      RESTOCK_PAGE_SIZE              = tostring(var.page_size)
      RESTOCK_CHUNK_SIZE             = tostring(var.chunk_size)
      RESTOCK_ENQUEUE_CONCURRENCY    = tostring(var.enqueue_concurrency)
      RESTOCK_FANOUT_LEASE_MS        = tostring(var.fanout_lease_ms)
      RESTOCK_CHECKPOINT_INTERVAL_MS = tostring(var.checkpoint_interval_ms)
      RESTOCK_FANOUT_TIME_BUDGET_MS  = tostring(local.fanout_time_budget_ms)
      RESTOCK_FANOUT_RANGE_TARGET    = tostring(var.fanout_range_target)
      RESTOCK_FANOUT_MIN_RANGES      = tostring(var.fanout_min_ranges)
      RESTOCK_FANOUT_MAX_RANGES      = tostring(var.fanout_max_ranges)
      # Cloud Run's IAM check (iam.tf: only the push and tasks identities may invoke)
      # passes tokens on with their signature removed: trust what it verified.
      RESTOCK_BEHIND_CLOUD_RUN_IAM = "true"
      # Stock-limited waves (docs/waves.md): multiplier 0 tells everyone at once.
      RESTOCK_WAVE_MULTIPLIER         = tostring(var.wave_multiplier)
      RESTOCK_WAVE_INTERVAL_MS        = tostring(var.wave_interval_ms)
      RESTOCK_MIN_AVAILABLE_TO_NOTIFY = tostring(var.min_available_to_notify)
      # The subscription's dead-letter limit (pubsub.tf): on that delivery a fan-out that cannot finish ends failed.
      RESTOCK_PUBSUB_MAX_DELIVERY_ATTEMPTS = tostring(var.pubsub_max_delivery_attempts)
    }
    deliverRestockBatch = {
      RESTOCK_DELIVERY_URL                = local.function_urls["deliverRestockBatch"]
      RESTOCK_NOTIFIER                    = var.notifier
      RESTOCK_NOTIFIER_URL                = var.notifier_url
      RESTOCK_DELIVERY_MAX_ATTEMPTS       = tostring(var.delivery_max_attempts)
      RESTOCK_SEND_CONCURRENCY            = tostring(var.send_concurrency)
      RESTOCK_NOTIFY_BATCH_SIZE           = tostring(var.notify_batch_size)
      RESTOCK_DELIVERY_LEASE_MS           = tostring(var.delivery_lease_ms)
      RESTOCK_LEDGER_TTL_DAYS             = tostring(var.ledger_ttl_days)
      RESTOCK_NOTIFIER_TIMEOUT_MS         = tostring(var.notifier_timeout_ms)
      RESTOCK_NOTIFIER_RETRIES            = tostring(var.notifier_retries)
      RESTOCK_NOTIFIER_MAX_RETRY_AFTER_MS = tostring(var.notifier_max_retry_after_ms)
      RESTOCK_VERIFY_OIDC                 = "true"
      RESTOCK_OIDC_AUDIENCE               = local.function_urls["deliverRestockBatch"]
      RESTOCK_OIDC_ALLOWED_EMAILS         = google_service_account.tasks_invoker.email
      RESTOCK_BEHIND_CLOUD_RUN_IAM        = "true" # as for fan-out above
      # The direct channels: terraform/channels.tf.
      RESTOCK_EMAIL_SENDER         = var.email_sender
      RESTOCK_PUSH_SENDER          = var.push_sender
      RESTOCK_SMTP_HOST            = var.smtp_host
      RESTOCK_SMTP_PORT            = tostring(var.smtp_port)
      RESTOCK_SMTP_SECURE          = tostring(var.smtp_secure)
      RESTOCK_SMTP_USER            = var.smtp_user
      RESTOCK_SMTP_MAX_CONNECTIONS = tostring(var.smtp_max_connections)
      RESTOCK_SMTP_TIMEOUT_MS      = tostring(var.smtp_timeout_ms)
      RESTOCK_EMAIL_FROM           = var.email_from
      RESTOCK_DKIM_DOMAIN          = var.dkim_domain
      RESTOCK_DKIM_SELECTOR        = var.dkim_selector
      RESTOCK_UNSUBSCRIBE_URL      = local.function_urls["restockUnsubscribe"]
      RESTOCK_FCM_PROJECT_ID       = var.fcm_project_id
      RESTOCK_FCM_CONCURRENCY      = tostring(var.fcm_concurrency)
    }
    restockSubscriptions = {
      RESTOCK_MAX_SUBSCRIPTIONS_PER_USER = tostring(var.max_subscriptions_per_user)
      # Who may act for whom (docs/api.md): empty leaves every invoker unscoped.
      RESTOCK_STOREFRONT_TENANTS = var.storefront_tenants
      # The API refuses subscriptions to products in stock: it must judge "in stock" as fan-out does.
      RESTOCK_THRESHOLD = tostring(var.restock_threshold)
    }
    restockUnsubscribe = {}
  }

  # Secrets reach a function only through Secret Manager, never as plain text.
  function_secret_env = {
    fanOutRestock = {}
    deliverRestockBatch = {
      RESTOCK_NOTIFIER_TOKEN = google_secret_manager_secret.notifier_token.secret_id
      # Empty when unused (no SMTP user, no DKIM domain, no email over SMTP): left out, so no version is required.
      RESTOCK_SMTP_PASSWORD      = var.smtp_user == "" ? "" : google_secret_manager_secret.smtp_password.secret_id
      RESTOCK_DKIM_PRIVATE_KEY   = var.dkim_domain == "" ? "" : google_secret_manager_secret.dkim_private_key.secret_id
      RESTOCK_UNSUBSCRIBE_SECRET = var.email_sender == "smtp" ? google_secret_manager_secret.unsubscribe_key.secret_id : ""
    }
    restockSubscriptions = {}
    restockUnsubscribe = {
      RESTOCK_UNSUBSCRIBE_SECRET = var.email_sender == "smtp" ? google_secret_manager_secret.unsubscribe_key.secret_id : ""
    }
  }
}
