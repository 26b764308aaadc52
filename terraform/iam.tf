# One identity per function, plus the identities that call them, each with
# the least it needs. Nothing here is granted to allUsers or
# allAuthenticatedUsers: every function requires an ID token from an account
# listed below.

# ---------------------------------------------------------------- identities

# The runtime identity of each function.
resource "google_service_account" "function" {
  for_each = local.functions

  account_id   = each.value.account_id
  display_name = "Restock fan-out: ${each.key} runtime"
  description  = "Runs the ${each.key} function."
}

# The identity Cloud Tasks puts in each task's OIDC token: the only caller of
# deliverRestockBatch, and the caller of fan-out continuations.
resource "google_service_account" "tasks_invoker" {
  account_id   = "restock-tasks-invoker"
  display_name = "Restock fan-out: Cloud Tasks invoker"
  description  = "Signs the OIDC tokens of delivery and continuation tasks."
}

# The identity Pub/Sub puts in each push's OIDC token.
resource "google_service_account" "pubsub_push" {
  account_id   = "restock-pubsub-push"
  display_name = "Restock fan-out: Pub/Sub push invoker"
  description  = "Signs the OIDC tokens of inventory-updated pushes to fanOutRestock."
}

# Builds the functions from the source archive (instead of the default compute
# account, which new projects no longer grant anything).
resource "google_service_account" "build" {
  account_id   = "restock-build"
  display_name = "Restock fan-out: function builds"
  description  = "Runs Cloud Build for the restock functions."
}

# ---------------------------------------------------------------- Firestore

# Firestore has no per-collection IAM; each function that reads or writes it
# gets datastore.user on the project and nothing broader.
resource "google_project_iam_member" "function_firestore" {
  for_each = local.functions

  project = var.project_id
  role    = "roles/datastore.user"
  member  = "serviceAccount:${google_service_account.function[each.key].email}"
}

# ---------------------------------------------------------------- fan-out

# Fan-out may create tasks in this queue only.
resource "google_cloud_tasks_queue_iam_member" "fanout_enqueuer" {
  project  = var.project_id
  location = google_cloud_tasks_queue.deliveries.location
  name     = google_cloud_tasks_queue.deliveries.name
  role     = "roles/cloudtasks.enqueuer"
  member   = "serviceAccount:${google_service_account.function["fanOutRestock"].email}"
}

# Creating a task whose OIDC token is minted for the tasks invoker requires
# acting as that account (iam.serviceAccounts.actAs), on that account only.
resource "google_service_account_iam_member" "fanout_acts_as_tasks_invoker" {
  service_account_id = google_service_account.tasks_invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.function["fanOutRestock"].email}"
}

# ---------------------------------------------------------------- delivery

resource "google_secret_manager_secret" "notifier_token" {
  secret_id = var.notifier_token_secret_id

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

# Only delivery reads the notifier's token, and only this secret.
resource "google_secret_manager_secret_iam_member" "delivery_reads_notifier_token" {
  secret_id = google_secret_manager_secret.notifier_token.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.function["deliverRestockBatch"].email}"
}

# ---------------------------------------------------------------- invokers

# Who may call which function: roles/run.invoker on the Cloud Run service of a
# gen2 function, keyed by a label that is known at plan time.
locals {
  service_invokers = {
    # Pub/Sub pushes events; Cloud Tasks runs continuations of long fan-outs.
    fanOutRestock = {
      pubsub_push   = "serviceAccount:${google_service_account.pubsub_push.email}"
      tasks_invoker = "serviceAccount:${google_service_account.tasks_invoker.email}"
    }
    # The queue's identity only.
    deliverRestockBatch = {
      tasks_invoker = "serviceAccount:${google_service_account.tasks_invoker.email}"
    }
    # The storefront backends only (validated to be service accounts).
    restockSubscriptions = { for email in var.storefront_service_accounts : email => "serviceAccount:${email}" }
  }

  invoker_bindings = merge([
    for function, members in local.service_invokers : {
      for label, member in members : "${function}/${label}" => { function = function, member = member }
    }
  ]...)
}

resource "google_cloud_run_v2_service_iam_member" "invoker" {
  for_each = local.invoker_bindings

  project  = var.project_id
  location = var.region
  name     = local.function_services[each.value.function]
  role     = "roles/run.invoker"
  member   = each.value.member
}

# ---------------------------------------------------------------- build

# Cloud Run Builder is the role Google documents for a function's build
# account: read the staged source, write build logs and the image.
resource "google_project_iam_member" "build" {
  project = var.project_id
  role    = "roles/run.builder"
  member  = "serviceAccount:${google_service_account.build.email}"
}
