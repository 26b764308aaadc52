# inventory-updated → (push, OIDC) → fanOutRestock, with exponential backoff
# between redeliveries and a dead-letter topic after pubsub_max_delivery_attempts.
# Poison input is acknowledged by the function itself; only transient failures
# are retried and, past the limit, dead-lettered (docs/design.md promise 4).

locals {
  # A push is outstanding until the function answers; the deadline must cover a
  # whole fan-out run or Pub/Sub redelivers an event still being fanned out.
  fanout_ack_deadline_seconds = min(600, var.function_config.fanOutRestock.timeout_seconds)

  # The Pub/Sub service agent (service-<number>@gcp-sa-pubsub...), created below.
  pubsub_service_agent = google_project_service_identity.pubsub.member
}

# The Pub/Sub service agent is created on the API's first use, not when the API
# is enabled, so on a fresh project the grants below could name an account that
# does not exist yet (refused: "Service account ... does not exist"). Creating it
# explicitly (Service Usage generateServiceIdentity) makes it exist before them,
# and its member attribute makes each grant wait for it. google-beta only
# (hashicorp/terraform-provider-google-beta,
# google-beta/services/resourcemanager/resource_project_service_identity.go);
# cloud-foundation-fabric's project module creates its service agents the same way.
resource "google_project_service_identity" "pubsub" {
  provider = google-beta

  project = var.project_id
  service = "pubsub.googleapis.com"

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic" "inventory_updated" {
  name = local.names.topic

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic" "dead_letter" {
  name = local.names.dead_letter_topic

  depends_on = [google_project_service.enabled]
}

# Read by `restock dead-letters` (RESTOCK_DEAD_LETTER_SUBSCRIPTION).
resource "google_pubsub_subscription" "dead_letter" {
  name  = local.names.dead_letter_subscription
  topic = google_pubsub_topic.dead_letter.id

  ack_deadline_seconds       = 60
  message_retention_duration = "${var.dead_letter_retention_days * 86400}s"

  expiration_policy {
    ttl = "" # never expires, however long nothing is dead-lettered
  }

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_subscription" "fanout" {
  name  = local.names.fanout_subscription
  topic = google_pubsub_topic.inventory_updated.id

  ack_deadline_seconds       = local.fanout_ack_deadline_seconds
  message_retention_duration = "604800s"

  push_config {
    push_endpoint = local.function_urls["fanOutRestock"]

    oidc_token {
      service_account_email = google_service_account.pubsub_push.email
      audience              = local.function_urls["fanOutRestock"]
    }
  }

  retry_policy {
    minimum_backoff = "${var.pubsub_min_backoff_seconds}s"
    maximum_backoff = "${var.pubsub_max_backoff_seconds}s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.pubsub_max_delivery_attempts
  }

  expiration_policy {
    ttl = ""
  }

  # Pushing before the function and its invoker binding exist, or before
  # Pub/Sub may sign tokens as the push identity, would burn delivery attempts
  # on 401/403/404s; dead-lettering before the dead-letter subscription exists
  # would lose the message (a topic keeps nothing without a subscription).
  # Only fan-out's own invokers: a refused grant on another function never
  # holds the pipeline's trigger back (issue 30 item 4).
  depends_on = [
    google_cloudfunctions2_function.function,
    google_cloud_run_v2_service_iam_binding.fanout_invokers,
    google_pubsub_topic_iam_member.dead_letter_publisher,
    google_pubsub_subscription.dead_letter,
    google_service_account_iam_member.pubsub_signs_push_tokens,
  ]
}

# Pub/Sub mints each push's OIDC token as the push identity. Projects created
# before 8 April 2021 do not grant their Pub/Sub service agent that by default;
# this grants it on that one account instead of project-wide.
resource "google_service_account_iam_member" "pubsub_signs_push_tokens" {
  service_account_id = google_service_account.pubsub_push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}

# Dead-lettering needs exactly these two grants to the Pub/Sub service agent:
# publish to the dead-letter topic, and acknowledge on the source subscription
# the message it forwarded.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  topic  = google_pubsub_topic.dead_letter.id
  role   = "roles/pubsub.publisher"
  member = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "fanout_dead_letter_subscriber" {
  subscription = google_pubsub_subscription.fanout.id
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}

# Only the inventory service's identities may publish events.
resource "google_pubsub_topic_iam_member" "inventory_publisher" {
  for_each = toset(var.inventory_publishers)

  topic  = google_pubsub_topic.inventory_updated.id
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${each.value}"
}

# ---------------------------------------------------------------- shopper actions

# restockUnsubscribe (public) → shopper-actions → (push, OIDC) → applyShopperActions
# (private): the public function holds no database role and records only an
# unsubscribe request; the private worker applies it (issue 31 item 8). Wired
# like inventory-updated: OIDC of its own push identity, exponential backoff,
# a dead-letter topic after pubsub_max_delivery_attempts with a pull
# subscription that keeps what lands there. Only with email over SMTP.

locals {
  shopper_actions_ack_deadline_seconds = min(600, var.function_config.applyShopperActions.timeout_seconds)
}

resource "google_pubsub_topic" "shopper_actions" {
  count = local.sends_links ? 1 : 0

  name = local.names.shopper_actions_topic

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic" "shopper_actions_dead_letter" {
  count = local.sends_links ? 1 : 0

  name = local.names.shopper_actions_dead_letter_topic

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_subscription" "shopper_actions_dead_letter" {
  count = local.sends_links ? 1 : 0

  name  = local.names.shopper_actions_dead_letter_subscription
  topic = google_pubsub_topic.shopper_actions_dead_letter[0].id

  ack_deadline_seconds       = 60
  message_retention_duration = "${var.dead_letter_retention_days * 86400}s"

  expiration_policy {
    ttl = ""
  }

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_subscription" "shopper_actions" {
  count = local.sends_links ? 1 : 0

  name  = local.names.shopper_actions_subscription
  topic = google_pubsub_topic.shopper_actions[0].id

  ack_deadline_seconds       = local.shopper_actions_ack_deadline_seconds
  message_retention_duration = "604800s"

  push_config {
    push_endpoint = local.function_urls["applyShopperActions"]

    oidc_token {
      service_account_email = google_service_account.shopper_actions_push[0].email
      audience              = local.function_urls["applyShopperActions"]
    }
  }

  retry_policy {
    minimum_backoff = "${var.pubsub_min_backoff_seconds}s"
    maximum_backoff = "${var.pubsub_max_backoff_seconds}s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.shopper_actions_dead_letter[0].id
    max_delivery_attempts = var.pubsub_max_delivery_attempts
  }

  expiration_policy {
    ttl = ""
  }

  # As for fan-out's subscription: the function, its own invokers, the token
  # and dead-letter grants and the dead-letter subscription come first.
  depends_on = [
    google_cloudfunctions2_function.function,
    google_cloud_run_v2_service_iam_binding.shopper_actions_invokers,
    google_pubsub_topic_iam_member.shopper_actions_dead_letter_publisher,
    google_pubsub_subscription.shopper_actions_dead_letter,
    google_service_account_iam_member.pubsub_signs_shopper_actions_tokens,
  ]
}

resource "google_service_account_iam_member" "pubsub_signs_shopper_actions_tokens" {
  count = local.sends_links ? 1 : 0

  service_account_id = google_service_account.shopper_actions_push[0].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}

resource "google_pubsub_topic_iam_member" "shopper_actions_dead_letter_publisher" {
  count = local.sends_links ? 1 : 0

  topic  = google_pubsub_topic.shopper_actions_dead_letter[0].id
  role   = "roles/pubsub.publisher"
  member = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "shopper_actions_dead_letter_subscriber" {
  count = local.sends_links ? 1 : 0

  subscription = google_pubsub_subscription.shopper_actions[0].id
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}

# The public function may publish to this one topic, and do nothing else.
resource "google_pubsub_topic_iam_member" "unsubscribe_publishes_shopper_actions" {
  count = local.sends_links ? 1 : 0

  topic  = google_pubsub_topic.shopper_actions[0].id
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${google_service_account.function["restockUnsubscribe"].email}"
}
