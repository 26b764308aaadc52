# What each function is and what it is told. The environment maps below are the
# single place where Terraform variables become the settings of lib/config.ts;
# test/unit/terraform/ checks them against SETTINGS so a new setting cannot be
# forgotten here.

locals {
  # Every function, keyed by the name it registers with functions-framework
  # (functions/<name>.ts); the key is also its entry point. Sizing comes from
  # var.function_config. `deployed` false leaves a function (and its identity
  # and grants) out: restockUnsubscribe is public and applyShopperActions only
  # serves it, so both exist only while email is sent directly (issue 30 item 4:
  # allUsers is refused where the organisation enforces domain-restricted
  # sharing, and nothing public is needed otherwise). `pipeline_database`: the
  # function gets roles/datastore.user on the pipeline's database.
  functions = {
    fanOutRestock = {
      description       = "Turns a restock event into chunked delivery tasks."
      account_id        = "restock-fanout"
      deployed          = true
      pipeline_database = true
    }
    deliverRestockBatch = {
      description       = "Sends the notifications of one chunk, exactly once per recipient."
      account_id        = "restock-delivery"
      deployed          = true
      pipeline_database = true
    }
    restockSubscriptions = {
      description       = "HTTP API storefronts use to subscribe, unsubscribe and list."
      account_id        = "restock-subscriptions"
      deployed          = true
      pipeline_database = true
    }
    # Public: the one-click unsubscribe link of every email (terraform/channels.tf) and
    # double opt-in's confirmation link. It reads nothing and writes nothing: it verifies
    # the token and publishes the request to the shopper-actions topic, which applyShopperActions applies.
    restockUnsubscribe = {
      description       = "One-click unsubscribe links of restock emails (RFC 8058) and double opt-in confirmation links; public, token-verified, records the request."
      account_id        = "restock-unsubscribe"
      deployed          = local.sends_links
      pipeline_database = false
    }
    applyShopperActions = {
      description       = "Applies the shopper actions restockUnsubscribe records (unsubscribe requests, double opt-in confirmations); private, pushed by Pub/Sub."
      account_id        = "restock-shopper-actions"
      deployed          = local.sends_links
      pipeline_database = true
    }
    # The outbox sweep (terraform/outbox.tf): it reads the inventory service's
    # outbox where it lives, never the pipeline's database.
    relayOutbox = {
      description       = "Publishes the outbox rows the inventory service's fast path missed (the sweep)."
      account_id        = "restock-outbox-relay"
      deployed          = true
      pipeline_database = false
    }
  }

  direct_email = var.email_sender == "smtp"
  # Direct sends carry one-click unsubscribe links (an email's List-Unsubscribe,
  # a web push payload's unsubscribeUrl): their key, the public unsubscribe
  # function and the shopper-actions path exist exactly then.
  sends_links = local.direct_email || var.webpush_sender == "webpush"

  # restockSubscriptions emails confirmation links itself (double opt-in), over
  # SMTP: the variable's validation makes this imply direct_email, so every
  # secret it reads below has a version.
  confirms_email = var.double_opt_in == "email"

  # The sender of each channel of lib/channels.ts (its own, or notifier when
  # empty), and whether any goes through the notification service: only then
  # are notifier_url and the notifier token needed (every channel direct needs neither).
  channel_senders = {
    email   = var.email_sender == "" ? var.notifier : var.email_sender
    push    = var.push_sender == "" ? var.notifier : var.push_sender
    webpush = var.webpush_sender == "" ? var.notifier : var.webpush_sender
  }
  uses_notifier = contains(values(local.channel_senders), "http")

  # The functions deployed, each with its sizing.
  deployed_functions = { for name, fn in local.functions : name => merge(fn, var.function_config[name]) if fn.deployed }

  # Every name two deployments in one project would otherwise share starts with
  # name_prefix (issue 30 item 13). The Cloud Monitoring metric descriptors of
  # the pipeline's own metrics are the exception: the exporter writes one fixed
  # type per instrument (terraform/metrics.tf).
  names = {
    topic                                    = "${var.name_prefix}${var.topic_name}"
    dead_letter_topic                        = "${var.name_prefix}${var.dead_letter_topic_name}"
    fanout_subscription                      = "${var.name_prefix}${var.fanout_subscription_name}"
    dead_letter_subscription                 = "${var.name_prefix}${var.dead_letter_subscription_name}"
    shopper_actions_topic                    = "${var.name_prefix}shopper-actions"
    shopper_actions_dead_letter_topic        = "${var.name_prefix}shopper-actions-dead-letter"
    shopper_actions_subscription             = "${var.name_prefix}shopper-actions-apply"
    shopper_actions_dead_letter_subscription = "${var.name_prefix}shopper-actions-dead-letter"
    queue                                    = "${var.name_prefix}${var.queue_name}"
    continuation_queue                       = "${var.name_prefix}${var.continuation_queue_name}"
    firestore_database                       = "${var.name_prefix}${var.firestore_database}"
    notifier_token_secret                    = "${var.name_prefix}${var.notifier_token_secret_id}"
    task_signing_key_secret                  = "${var.name_prefix}${var.task_signing_key_secret_id}"
    smtp_password_secret                     = "${var.name_prefix}${var.smtp_password_secret_id}"
    dkim_private_key_secret                  = "${var.name_prefix}${var.dkim_private_key_secret_id}"
    webpush_vapid_private_key_secret         = "${var.name_prefix}${var.webpush_vapid_private_key_secret_id}"
    unsubscribe_key_secret                   = "${var.name_prefix}${var.unsubscribe_key_secret_id}"
    pseudonym_key_secret                     = "${var.name_prefix}${var.pseudonym_key_secret_id}"
    source_bucket                            = "${var.project_id}-${var.name_prefix}restock-source"
    image_repository                         = "${var.name_prefix}restock-functions"
    # Log-based metrics, the scheduler job, the FCM role (no hyphens there) and display names.
    metric_prefix = "${var.name_prefix}restock"
    display       = var.name_prefix == "" ? "Restock" : "Restock (${trimsuffix(var.name_prefix, "-")})"
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
    for name in keys(local.functions) : name => "https://${lower("${var.name_prefix}${name}")}-${local.project_number}.${var.region}.run.app"
  }

  # Leaves room to checkpoint and enqueue the continuation before the platform
  # kills the request.
  fanout_time_budget_ms = (var.function_config.fanOutRestock.timeout_seconds - var.fanout_time_budget_margin_seconds) * 1000

  # A claimed chunk stays claimed at least as long as delivery may still be
  # sending it (issue 30 item 10): with a shorter lease a duplicate dispatch
  # re-claims a chunk that is still being sent. Validated in variables.tf.
  delivery_lease_ms = coalesce(var.delivery_lease_ms, var.function_config.deliverRestockBatch.timeout_seconds * 1000)

  # The collection of the outbox rows (RESTOCK_OUTBOX_COLLECTION). A literal, so
  # test/unit/terraform/indexes.test.ts can match its indexes to the kit's queries.
  outbox_collection = "outbox"

  # Where the outbox lives (docs/outbox.md): unset project and Firestore
  # database mean the pipeline's own.
  outbox_project            = var.outbox_project_id != "" ? var.outbox_project_id : var.project_id
  outbox_on_firestore       = var.outbox_backend == "firestore"
  outbox_firestore_database = var.outbox_firestore_database != "" ? var.outbox_firestore_database : local.names.firestore_database

  # The sweep stops claiming 15 s before its timeout.
  outbox_sweep_budget_ms = (var.function_config.relayOutbox.timeout_seconds - 15) * 1000

  # Settings every function reads.
  shared_env = {
    GOOGLE_CLOUD_PROJECT       = var.project_id
    LOG_LEVEL                  = var.log_level
    RESTOCK_MAX_BODY_BYTES     = tostring(var.max_body_bytes)
    RESTOCK_FIRESTORE_DATABASE = local.names.firestore_database
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
      RESTOCK_TASKS_QUEUE        = local.names.queue
      RESTOCK_TASKS_QUEUE_COUNT  = tostring(var.delivery_queue_count)
      RESTOCK_CONTINUATION_QUEUE = local.names.continuation_queue
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
      RESTOCK_NOTIFIER_SEND_USER_ID       = tostring(var.notifier_send_user_id)
      RESTOCK_DELIVERY_MAX_ATTEMPTS       = tostring(var.delivery_max_attempts)
      RESTOCK_SEND_CONCURRENCY            = tostring(var.send_concurrency)
      RESTOCK_NOTIFY_BATCH_SIZE           = tostring(var.notify_batch_size)
      RESTOCK_DELIVERY_LEASE_MS           = tostring(local.delivery_lease_ms)
      RESTOCK_LEDGER_TTL_DAYS             = tostring(var.ledger_ttl_days)
      RESTOCK_NOTIFIER_TIMEOUT_MS         = tostring(var.notifier_timeout_ms)
      RESTOCK_NOTIFIER_RETRIES            = tostring(var.notifier_retries)
      RESTOCK_NOTIFIER_MAX_RETRY_AFTER_MS = tostring(var.notifier_max_retry_after_ms)
      RESTOCK_VERIFY_OIDC                 = "true"
      RESTOCK_OIDC_AUDIENCE               = local.function_urls["deliverRestockBatch"]
      RESTOCK_OIDC_ALLOWED_EMAILS         = google_service_account.tasks_invoker.email
      RESTOCK_BEHIND_CLOUD_RUN_IAM        = "true" # as for fan-out above
      # Send windows (docs/send-windows.md): held recipients go back on the delivery queues as delayed tasks.
      RESTOCK_SEND_WINDOW           = var.send_window
      RESTOCK_DEFAULT_TIME_ZONE     = var.default_time_zone
      RESTOCK_TASKS_LOCATION        = var.region
      RESTOCK_TASKS_QUEUE           = local.names.queue
      RESTOCK_TASKS_QUEUE_COUNT     = tostring(var.delivery_queue_count)
      RESTOCK_TASKS_SERVICE_ACCOUNT = google_service_account.tasks_invoker.email
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
      # The public base URL when restockUnsubscribe sits behind a load balancer (issue 30 item 8).
      RESTOCK_UNSUBSCRIBE_URL = var.unsubscribe_base_url != "" ? var.unsubscribe_base_url : local.function_urls["restockUnsubscribe"]
      # Tracked product links, served by restockUnsubscribe under the same switch (terraform/funnel_variables.tf).
      RESTOCK_CLICK_TRACKING  = tostring(var.click_tracking)
      RESTOCK_FCM_PROJECT_ID  = var.fcm_project_id
      RESTOCK_FCM_CONCURRENCY = tostring(var.fcm_concurrency)
      # Web push (docs/channels.md): the private key is a secret, below.
      RESTOCK_WEBPUSH_SENDER           = var.webpush_sender
      RESTOCK_WEBPUSH_VAPID_PUBLIC_KEY = var.webpush_vapid_public_key
      RESTOCK_WEBPUSH_SUBJECT          = var.webpush_subject
      RESTOCK_WEBPUSH_TTL_SECONDS      = tostring(var.webpush_ttl_seconds)
      RESTOCK_WEBPUSH_URGENCY          = var.webpush_urgency
      RESTOCK_WEBPUSH_CONCURRENCY      = tostring(var.webpush_concurrency)
      # The shop's templates, shipped under templates/ of the source (terraform/functions.tf);
      # the function runs in its source's directory.
      RESTOCK_TEMPLATES_DIR = var.templates_dir != "" ? "templates" : ""
    }
    restockSubscriptions = {
      RESTOCK_MAX_SUBSCRIPTIONS_PER_USER = tostring(var.max_subscriptions_per_user)
      # Who may act for whom (docs/api.md): one scope per storefront account, never "any invoker for
      # every shopper" (Cloud Run's IAM also admits project Owners and Editors). A lone storefront
      # acts for every id unless told otherwise; several must be given their prefixes.
      RESTOCK_STOREFRONT_TENANTS = var.storefront_tenants != "" ? var.storefront_tenants : (length(var.storefront_service_accounts) == 1 ? "${var.storefront_service_accounts[0]}=*" : "")
      # Behind Cloud Run's IAM check: the caller's token arrives with its signature stripped (lib/auth).
      RESTOCK_BEHIND_CLOUD_RUN_IAM = "true"
      # The API refuses subscriptions to products in stock: it must judge "in stock" as fan-out does.
      RESTOCK_THRESHOLD = tostring(var.restock_threshold)
      # Double opt-in (terraform/consent_variables.tf) and erasure, which closes ledger keys for RESTOCK_LEDGER_TTL_DAYS.
      RESTOCK_DOUBLE_OPT_IN             = var.double_opt_in
      RESTOCK_CONFIRMATION_TTL_HOURS    = tostring(var.confirmation_ttl_hours)
      RESTOCK_CONFIRMATIONS_PER_ADDRESS = tostring(var.confirmations_per_address)
      RESTOCK_LEDGER_TTL_DAYS           = tostring(var.ledger_ttl_days)
      # Orders (POST /v1/conversions, docs/funnel.md) are credited to a notification this recent, and kept as long as the ledger.
      RESTOCK_ATTRIBUTION_WINDOW_DAYS = tostring(var.attribution_window_days)
      # The confirmation emails leave as delivery's do: same server, sender, DKIM
      # signature, and links under the same public base URL (restockUnsubscribe
      # serves /v1/confirm/{token}). Written out, not shared through a local: the
      # consistency test and sim/production/terraform.ts read each function's map
      # as literal keys, and the consistency test holds these values to delivery's.
      RESTOCK_EMAIL_SENDER         = var.email_sender
      RESTOCK_SMTP_HOST            = var.smtp_host
      RESTOCK_SMTP_PORT            = tostring(var.smtp_port)
      RESTOCK_SMTP_SECURE          = tostring(var.smtp_secure)
      RESTOCK_SMTP_USER            = var.smtp_user
      RESTOCK_SMTP_MAX_CONNECTIONS = tostring(var.smtp_max_connections)
      RESTOCK_SMTP_TIMEOUT_MS      = tostring(var.smtp_timeout_ms)
      RESTOCK_EMAIL_FROM           = var.email_from
      RESTOCK_DKIM_DOMAIN          = var.dkim_domain
      RESTOCK_DKIM_SELECTOR        = var.dkim_selector
      RESTOCK_UNSUBSCRIBE_URL      = var.unsubscribe_base_url != "" ? var.unsubscribe_base_url : local.function_urls["restockUnsubscribe"]
    }
    # It records an unsubscribe or confirmation request on this topic (its short name) for applyShopperActions.
    restockUnsubscribe = {
      RESTOCK_SHOPPER_ACTIONS_TOPIC          = local.names.shopper_actions_topic
      RESTOCK_UNSUBSCRIBE_TOKEN_MAX_AGE_DAYS = tostring(var.unsubscribe_link_max_age_days)
      # Confirmation links (double opt-in) live as long as the request they confirm.
      RESTOCK_CONFIRMATION_TTL_HOURS = tostring(var.confirmation_ttl_hours)
      # Tracked links (/v1/c/{token}): the switch delivery makes them under, their life, the prefetch window, UTM.
      RESTOCK_CLICK_TRACKING           = tostring(var.click_tracking)
      RESTOCK_CLICK_TOKEN_MAX_AGE_DAYS = tostring(var.click_link_max_age_days)
      RESTOCK_CLICK_PREFETCH_SECONDS   = tostring(var.click_prefetch_seconds)
      RESTOCK_CLICK_UTM_SOURCE         = var.click_utm_source
    }
    # Pushed by the shopper-actions subscription with an OIDC token of its own
    # push identity, for its own run.app URL, behind Cloud Run's IAM check:
    # the same three facts fan-out is told about its pushes. The push identity's
    # address is known before it exists (and whether the function is deployed
    # at all), so its environment is always one it would start with.
    applyShopperActions = {
      RESTOCK_PUSH_SERVICE_ACCOUNT = "${var.name_prefix}restock-actions-push@${var.project_id}.iam.gserviceaccount.com"
      RESTOCK_OIDC_AUDIENCE        = local.function_urls["applyShopperActions"]
      RESTOCK_BEHIND_CLOUD_RUN_IAM = "true"
      # Clicks of tracked links are kept as long as the ledger entries they are counted against (docs/funnel.md).
      RESTOCK_LEDGER_TTL_DAYS = tostring(var.ledger_ttl_days)
    }
    relayOutbox = {
      RESTOCK_OUTBOX_TOPIC              = local.names.topic
      RESTOCK_OUTBOX_COLLECTION         = local.outbox_collection
      RESTOCK_OUTBOX_PUBLISH_TIMEOUT_MS = tostring(var.outbox_publish_timeout_ms)
      RESTOCK_OUTBOX_LEASE_MS           = tostring(var.outbox_lease_ms)
      RESTOCK_OUTBOX_MAX_ATTEMPTS       = tostring(var.outbox_max_attempts)
      RESTOCK_OUTBOX_BACKOFF_MIN_MS     = tostring(var.outbox_backoff_min_ms)
      RESTOCK_OUTBOX_BACKOFF_MAX_MS     = tostring(var.outbox_backoff_max_ms)
      RESTOCK_OUTBOX_BATCH_SIZE         = tostring(var.outbox_batch_size)
      RESTOCK_OUTBOX_SWEEP_BUDGET_MS    = tostring(local.outbox_sweep_budget_ms)
      RESTOCK_OUTBOX_SENT_TTL_DAYS      = tostring(var.outbox_sent_ttl_days)
      RESTOCK_OUTBOX_BACKEND            = var.outbox_backend
      RESTOCK_OUTBOX_PROJECT            = local.outbox_project
      RESTOCK_OUTBOX_FIRESTORE_DATABASE = local.outbox_on_firestore ? local.outbox_firestore_database : ""
      RESTOCK_OUTBOX_SPANNER_INSTANCE   = var.outbox_spanner_instance
      RESTOCK_OUTBOX_SPANNER_DATABASE   = var.outbox_spanner_database
      # Fine-grained access control: the relay acts as this database role (terraform/outbox.tf).
      RESTOCK_OUTBOX_SPANNER_DATABASE_ROLE = local.outbox_on_firestore ? "" : var.outbox_spanner_database_role
    }
  }

  # Secrets reach a function only through Secret Manager, never as plain text.
  function_secret_env = {
    # Fan-out signs the bodies of the tasks it creates and verifies its continuations'.
    fanOutRestock = {
      RESTOCK_TASK_SIGNING_KEYS = google_secret_manager_secret.task_signing_key.secret_id
    }
    deliverRestockBatch = {
      RESTOCK_TASK_SIGNING_KEYS = google_secret_manager_secret.task_signing_key.secret_id
      # Empty when unused (no channel through the notification service, no SMTP user, no DKIM domain,
      # no email over SMTP): left out, so no version is required.
      RESTOCK_NOTIFIER_TOKEN     = local.uses_notifier ? google_secret_manager_secret.notifier_token.secret_id : ""
      RESTOCK_SMTP_PASSWORD      = var.smtp_user == "" ? "" : google_secret_manager_secret.smtp_password.secret_id
      RESTOCK_DKIM_PRIVATE_KEY   = var.dkim_domain == "" ? "" : google_secret_manager_secret.dkim_private_key.secret_id
      RESTOCK_UNSUBSCRIBE_SECRET = local.sends_links ? google_secret_manager_secret.unsubscribe_key.secret_id : ""
      # Signs every web push request (VAPID), only while web push is sent directly.
      RESTOCK_WEBPUSH_VAPID_PRIVATE_KEY = var.webpush_sender == "webpush" ? google_secret_manager_secret.webpush_vapid_private_key.secret_id : ""
    }
    # The pseudonym key (terraform/consent.tf) goes to every function that refers to a shopper by
    # its keyed hash (in logs, erasure receipts, erased ledger entries, confirmation limits), so
    # `restock trace` matches their lines; fan-out, delivery and the relay log no user id.
    # restockSubscriptions reads the mail secrets only while it emails confirmations (double opt-in).
    restockSubscriptions = {
      RESTOCK_PSEUDONYM_KEY      = google_secret_manager_secret.pseudonym_key.secret_id
      RESTOCK_SMTP_PASSWORD      = local.confirms_email && var.smtp_user != "" ? google_secret_manager_secret.smtp_password.secret_id : ""
      RESTOCK_DKIM_PRIVATE_KEY   = local.confirms_email && var.dkim_domain != "" ? google_secret_manager_secret.dkim_private_key.secret_id : ""
      RESTOCK_UNSUBSCRIBE_SECRET = local.confirms_email ? google_secret_manager_secret.unsubscribe_key.secret_id : ""
    }
    # Deployed only with email over SMTP, when the key has a version.
    restockUnsubscribe = {
      RESTOCK_UNSUBSCRIBE_SECRET = google_secret_manager_secret.unsubscribe_key.secret_id
      RESTOCK_PSEUDONYM_KEY      = google_secret_manager_secret.pseudonym_key.secret_id
    }
    applyShopperActions = {
      RESTOCK_PSEUDONYM_KEY = google_secret_manager_secret.pseudonym_key.secret_id
    }
    relayOutbox = {}
  }
}
