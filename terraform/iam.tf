# One identity per function, plus the identities that call them, each with
# the least it needs. Every function requires an ID token from an account
# listed below, except restockUnsubscribe: the one-click unsubscribe link of
# every email, which mailbox providers call without credentials (RFC 8058;
# terraform/channels.tf).

# ---------------------------------------------------------------- identities

# The runtime identity of each function.
resource "google_service_account" "function" {
  for_each = local.functions

  account_id   = each.value.account_id
  display_name = "Restock fan-out: ${each.key} runtime"
  description  = "Runs the ${each.key} function."

  depends_on = [google_project_service.enabled]
}

# The identity Cloud Tasks puts in each task's OIDC token: the only caller of
# deliverRestockBatch, and the caller of fan-out continuations.
resource "google_service_account" "tasks_invoker" {
  account_id   = "restock-tasks-invoker"
  display_name = "Restock fan-out: Cloud Tasks invoker"
  description  = "Signs the OIDC tokens of delivery and continuation tasks."

  depends_on = [google_project_service.enabled]
}

# The identity Pub/Sub puts in each push's OIDC token.
resource "google_service_account" "pubsub_push" {
  account_id   = "restock-pubsub-push"
  display_name = "Restock fan-out: Pub/Sub push invoker"
  description  = "Signs the OIDC tokens of inventory-updated pushes to fanOutRestock."

  depends_on = [google_project_service.enabled]
}

# Builds the functions from the source archive (instead of the default compute
# account, which new projects no longer grant anything).
resource "google_service_account" "build" {
  account_id   = "restock-build"
  display_name = "Restock fan-out: function builds"
  description  = "Runs Cloud Build for the restock functions."

  depends_on = [google_project_service.enabled]
}

# ---------------------------------------------------------------- Firestore

# Firestore has no per-collection IAM; each function gets datastore.user on
# the pipeline's own database only (an IAM condition on its name), so a function
# cannot read or write the project's other databases.
resource "google_project_iam_member" "function_firestore" {
  for_each = local.functions

  project = var.project_id
  role    = "roles/datastore.user"
  member  = "serviceAccount:${google_service_account.function[each.key].email}"

  condition {
    title       = "${var.firestore_database} database only"
    description = "The restock pipeline's own Firestore database."
    expression  = "resource.name == \"${google_firestore_database.pipeline.id}\""
  }
}

# ---------------------------------------------------------------- fan-out

# Fan-out may create tasks in the delivery queues and its continuation queue only.
resource "google_cloud_tasks_queue_iam_member" "fanout_enqueuer" {
  count = var.delivery_queue_count

  project  = var.project_id
  location = google_cloud_tasks_queue.deliveries[count.index].location
  name     = google_cloud_tasks_queue.deliveries[count.index].name
  role     = "roles/cloudtasks.enqueuer"
  member   = "serviceAccount:${google_service_account.function["fanOutRestock"].email}"
}

moved {
  from = google_cloud_tasks_queue_iam_member.fanout_enqueuer
  to   = google_cloud_tasks_queue_iam_member.fanout_enqueuer[0]
}

resource "google_cloud_tasks_queue_iam_member" "fanout_continues" {
  project  = var.project_id
  location = google_cloud_tasks_queue.continuations.location
  name     = google_cloud_tasks_queue.continuations.name
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

# The token's value, written through a write-only argument: it is sent to Secret
# Manager when notifier_token_version changes and is never stored in the plan
# or the state. Creating it here means a first apply needs no manual step, and
# deliverRestockBatch (which reads `latest` at deploy) always finds a version.
resource "google_secret_manager_secret_version" "notifier_token" {
  secret                 = google_secret_manager_secret.notifier_token.id
  secret_data_wo         = var.notifier_token
  secret_data_wo_version = var.notifier_token_version
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
    # Anyone: the signed token in the URL is the only credential, and the function serves that one route.
    restockUnsubscribe = { public = "allUsers" }
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

# The build identity reads the source archive, writes the image to the
# functions' own repository and writes its logs: nothing else (roles/run.builder
# on the project would let the build, and every npm install script it runs,
# read every bucket of the project, the Terraform state included).
resource "google_storage_bucket_iam_member" "build_reads_source" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.build.email}"
}

resource "google_artifact_registry_repository_iam_member" "build_writes_images" {
  project    = var.project_id
  location   = google_artifact_registry_repository.functions.location
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = "serviceAccount:${google_service_account.build.email}"
}

resource "google_project_iam_member" "build_log_writer" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = "serviceAccount:${google_service_account.build.email}"
}

# IAM grants take effect within minutes, not at once: the first build (and the
# first revision, which reads the notifier token) waits for them rather than
# failing on a permission that exists but has not propagated. Waited only when
# a grant is created or replaced.
resource "time_sleep" "iam_propagation" {
  create_duration = "${var.iam_propagation_seconds}s"

  triggers = {
    grants = join(",", concat(
      [
        google_storage_bucket_iam_member.build_reads_source.id,
        google_artifact_registry_repository_iam_member.build_writes_images.id,
        google_project_iam_member.build_log_writer.id,
        google_secret_manager_secret_iam_member.delivery_reads_notifier_token.id,
        # The direct channels' secrets (terraform/channels.tf).
        google_secret_manager_secret_iam_member.delivery_reads_smtp_password.id,
        google_secret_manager_secret_iam_member.delivery_reads_dkim_private_key.id,
      ],
      [for grant in google_project_iam_member.function_firestore : grant.id],
      [for grant in google_secret_manager_secret_iam_member.unsubscribe_key_readers : grant.id],
    ))
  }
}
