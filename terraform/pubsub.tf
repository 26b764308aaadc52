# inventory-updated → (push, OIDC) → fanOutRestock, with exponential backoff
# between redeliveries and a dead-letter topic after pubsub_max_delivery_attempts.
# Poison input is acknowledged by the function itself; only transient failures
# are retried and, past the limit, dead-lettered (docs/design.md promise 4).

locals {
  # A push is outstanding until the function answers; the deadline must cover a
  # whole fan-out run or Pub/Sub redelivers an event still being fanned out.
  fanout_ack_deadline_seconds = min(600, var.fanout_timeout_seconds)

  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

resource "google_pubsub_topic" "inventory_updated" {
  name = var.topic_name

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_topic" "dead_letter" {
  name = var.dead_letter_topic_name

  depends_on = [google_project_service.enabled]
}

# Read by `restock dead-letters` (RESTOCK_DEAD_LETTER_SUBSCRIPTION).
resource "google_pubsub_subscription" "dead_letter" {
  name  = var.dead_letter_subscription_name
  topic = google_pubsub_topic.dead_letter.id

  ack_deadline_seconds       = 60
  message_retention_duration = "${var.dead_letter_retention_days * 86400}s"

  expiration_policy {
    ttl = "" # never expires, however long nothing is dead-lettered
  }

  depends_on = [google_project_service.enabled]
}

resource "google_pubsub_subscription" "fanout" {
  name  = var.fanout_subscription_name
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
  depends_on = [
    google_cloudfunctions2_function.function,
    google_cloud_run_v2_service_iam_member.invoker,
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
