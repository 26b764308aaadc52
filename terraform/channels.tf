# The direct channels (docs/channels.md): email over SMTP, push through
# Firebase Cloud Messaging HTTP v1, and the public one-click unsubscribe
# function every email links to.
#
# - SMTP credentials, the DKIM key and the unsubscribe-link key live in Secret
#   Manager; Terraform creates the secrets, you add their versions (no secret
#   value ever sits in Terraform state).
# - The delivery function's own service account sends push: a custom role with
#   only cloudmessaging.messages.create, on the Firebase project of the tokens.
# - restockUnsubscribe is the one public function: mailbox providers POST to it
#   without credentials (RFC 8058), so allUsers may invoke it. It serves
#   /v1/unsubscribe/{token} only and answers anything else 404; the token is
#   an HMAC only the functions can make. The subscription API stays private.

# The variables of this file are in channels_variables.tf, next to variables.tf.

locals {
  fcm_project = var.fcm_project_id == "" ? var.project_id : var.fcm_project_id
}

# ---------------------------------------------------------------- secrets

resource "google_secret_manager_secret" "smtp_password" {
  secret_id = var.smtp_password_secret_id

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret" "dkim_private_key" {
  secret_id = var.dkim_private_key_secret_id

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret" "unsubscribe_key" {
  secret_id = var.unsubscribe_key_secret_id

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
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

resource "google_secret_manager_secret_iam_member" "unsubscribe_key_readers" {
  for_each = toset(["deliverRestockBatch", "restockUnsubscribe"])

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
  role_id     = "restockFcmSender"
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
  description = "Base URL of the one-click unsubscribe links in emails (restockUnsubscribe, public)."
  value       = local.function_urls["restockUnsubscribe"]
}

output "channel_secrets" {
  description = "Secret Manager secrets of the direct channels: add a version to each one you use (docs/channels.md)."
  value = {
    smtp_password    = google_secret_manager_secret.smtp_password.secret_id
    dkim_private_key = google_secret_manager_secret.dkim_private_key.secret_id
    unsubscribe_key  = google_secret_manager_secret.unsubscribe_key.secret_id
  }
}
