# Consent in production (issue 32, docs/privacy.md): restockSubscriptions
# emails double opt-in confirmations itself, so while double_opt_in is email it
# reads delivery's mail secrets and the unsubscribe keys that seal the links;
# and the pseudonym key, which keys the hash standing for a user id in logs,
# lives in Secret Manager like every other key.

# The variables of this file are in consent_variables.tf.

resource "google_secret_manager_secret" "pseudonym_key" {
  secret_id = local.names.pseudonym_key_secret

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

# Always written: restockSubscriptions is always deployed and reads it at `latest`.
resource "google_secret_manager_secret_version" "pseudonym_key" {
  secret                 = google_secret_manager_secret.pseudonym_key.id
  secret_data_wo         = var.pseudonym_key
  secret_data_wo_version = var.pseudonym_key_version
}

# Each function that mounts the key may read it, and no other.
resource "google_secret_manager_secret_iam_member" "pseudonym_key_readers" {
  for_each = toset([for name, secrets in local.function_secret_env : name if contains(keys(secrets), "RESTOCK_PSEUDONYM_KEY") && local.functions[name].deployed])

  secret_id = google_secret_manager_secret.pseudonym_key.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.function[each.key].email}"
}

# The confirmation emails' SMTP password and DKIM key, read by restockSubscriptions
# only while it sends them (the unsubscribe keys: unsubscribe_key_readers, channels.tf).
resource "google_secret_manager_secret_iam_member" "subscriptions_reads_smtp_password" {
  count = local.confirms_email && var.smtp_user != "" ? 1 : 0

  secret_id = google_secret_manager_secret.smtp_password.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.function["restockSubscriptions"].email}"
}

resource "google_secret_manager_secret_iam_member" "subscriptions_reads_dkim_private_key" {
  count = local.confirms_email && var.dkim_domain != "" ? 1 : 0

  secret_id = google_secret_manager_secret.dkim_private_key.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.function["restockSubscriptions"].email}"
}

output "pseudonym_key_secret" {
  description = "Secret Manager secret of RESTOCK_PSEUDONYM_KEY: give the restock CLI the same key (gcloud secrets versions access latest --secret=...) so `restock trace` and erasure receipts match the functions' logs."
  value       = google_secret_manager_secret.pseudonym_key.secret_id
}
