# The direct channels (docs/channels.md): email over SMTP, push through
# Firebase Cloud Messaging HTTP v1, and the public one-click unsubscribe
# function every email links to.
#
# - SMTP credentials, the DKIM key and the unsubscribe-link keys live in Secret
#   Manager; Terraform creates the secrets and writes each version from an
#   ephemeral variable through a write-only argument, as it does the notifier
#   token (no secret value ever sits in the plan or the state, and a first
#   apply needs no second one).
# - The delivery function's own service account sends push: a custom role with
#   only cloudmessaging.messages.create, on the Firebase project of the tokens.
# - restockUnsubscribe is the one public function, deployed only with
#   email_sender = "smtp": mailbox providers POST to it without credentials
#   (RFC 8058), so allUsers may invoke it. It serves /v1/unsubscribe/{token}
#   only and answers anything else 404; the token is an HMAC only the functions
#   can make. It holds no database role: it publishes an unsubscribe request to
#   the shopper-actions topic, and the private applyShopperActions applies it
#   (terraform/pubsub.tf). The subscription API stays private.

# The variables of this file are in channels_variables.tf, next to variables.tf.

locals {
  fcm_project = var.fcm_project_id == "" ? var.project_id : var.fcm_project_id
}

# ---------------------------------------------------------------- secrets

resource "google_secret_manager_secret" "smtp_password" {
  secret_id = local.names.smtp_password_secret

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret" "dkim_private_key" {
  secret_id = local.names.dkim_private_key_secret

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret" "webpush_vapid_private_key" {
  secret_id = local.names.webpush_vapid_private_key_secret

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret" "unsubscribe_key" {
  secret_id = local.names.unsubscribe_key_secret

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

# Each version is written while its feature is on, so the function that reads
# it at `latest` always finds one (issue 30 item 5).
resource "google_secret_manager_secret_version" "smtp_password" {
  count = var.smtp_user == "" ? 0 : 1

  secret                 = google_secret_manager_secret.smtp_password.id
  secret_data_wo         = var.smtp_password
  secret_data_wo_version = var.smtp_password_version
}

resource "google_secret_manager_secret_version" "dkim_private_key" {
  count = var.dkim_domain == "" ? 0 : 1

  secret                 = google_secret_manager_secret.dkim_private_key.id
  secret_data_wo         = var.dkim_private_key
  secret_data_wo_version = var.dkim_private_key_version
}

resource "google_secret_manager_secret_version" "webpush_vapid_private_key" {
  count = var.webpush_sender == "webpush" ? 1 : 0

  secret                 = google_secret_manager_secret.webpush_vapid_private_key.id
  secret_data_wo         = var.webpush_vapid_private_key
  secret_data_wo_version = var.webpush_vapid_private_key_version
}

resource "google_secret_manager_secret_version" "unsubscribe_key" {
  count = local.sends_links ? 1 : 0

  secret                 = google_secret_manager_secret.unsubscribe_key.id
  secret_data_wo         = var.unsubscribe_keys
  secret_data_wo_version = var.unsubscribe_key_version
}

# Delivery reads what it sends with; restockUnsubscribe only the key that verifies links.
resource "google_secret_manager_secret_iam_member" "delivery_reads_smtp_password" {
  secret_id = google_secret_manager_secret.smtp_password.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.function["deliverRestockBatch"].email}"
}

resource "google_secret_manager_secret_iam_member" "delivery_reads_dkim_private_key" {
  secret_id = google_secret_manager_secret.dkim_private_key.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.function["deliverRestockBatch"].email}"
}

resource "google_secret_manager_secret_iam_member" "delivery_reads_webpush_vapid_private_key" {
  secret_id = google_secret_manager_secret.webpush_vapid_private_key.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.function["deliverRestockBatch"].email}"
}

# restockSubscriptions seals the links of double opt-in confirmations with the same keys.
resource "google_secret_manager_secret_iam_member" "unsubscribe_key_readers" {
  for_each = local.sends_links ? toset(concat(["deliverRestockBatch", "restockUnsubscribe"], local.confirms_email ? ["restockSubscriptions"] : [])) : toset([])

  secret_id = google_secret_manager_secret.unsubscribe_key.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.function[each.key].email}"
}

# ---------------------------------------------------------------- push

resource "google_project_service" "fcm" {
  count = var.push_sender == "fcm" ? 1 : 0

  project            = local.fcm_project
  service            = "fcm.googleapis.com"
  disable_on_destroy = false

  depends_on = [google_project_service.enabled]
}

# Sending is all delivery does with FCM: one permission, not the admin role
# (which also manages topic subscriptions).
resource "google_project_iam_custom_role" "fcm_sender" {
  count = var.push_sender == "fcm" ? 1 : 0

  project     = local.fcm_project
  role_id     = "${replace(var.name_prefix, "-", "_")}restockFcmSender"
  title       = "Restock fan-out: FCM sender"
  description = "Send Firebase Cloud Messaging messages (HTTP v1 messages:send) and nothing else."
  permissions = ["cloudmessaging.messages.create"]

  depends_on = [google_project_service.enabled]
}

resource "google_project_iam_member" "delivery_fcm_sender" {
  count = var.push_sender == "fcm" ? 1 : 0

  project = local.fcm_project
  role    = google_project_iam_custom_role.fcm_sender[0].name
  member  = "serviceAccount:${google_service_account.function["deliverRestockBatch"].email}"
}

# ---------------------------------------------------------------- outputs

output "unsubscribe_url" {
  description = "Base URL of the one-click unsubscribe links in emails: unsubscribe_base_url, or restockUnsubscribe's run.app URL (deployed with email_sender = smtp)."
  value       = var.unsubscribe_base_url != "" ? var.unsubscribe_base_url : local.function_urls["restockUnsubscribe"]
}

output "channel_secrets" {
  description = "Secret Manager secrets of the direct channels, each written from its ephemeral variable while its feature is on (docs/channels.md)."
  value = {
    smtp_password    = google_secret_manager_secret.smtp_password.secret_id
    dkim_private_key = google_secret_manager_secret.dkim_private_key.secret_id
    unsubscribe_key  = google_secret_manager_secret.unsubscribe_key.secret_id
  }
}
