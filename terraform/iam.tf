# One identity per function, plus the identities that call them, each with
# the least it needs. Every function requires an ID token from an account
# listed below, except restockUnsubscribe: the one-click unsubscribe link of
# every email, which mailbox providers call without credentials (RFC 8058;
# terraform/channels.tf), deployed only while email is sent directly.

# ---------------------------------------------------------------- identities

# The runtime identity of each function.
resource "google_service_account" "function" {
  for_each = local.deployed_functions

  account_id   = "${var.name_prefix}${each.value.account_id}"
  display_name = "Restock fan-out: ${each.key} runtime"
  description  = "Runs the ${each.key} function."

  depends_on = [google_project_service.enabled]
}

# The identity Cloud Tasks puts in each task's OIDC token: the only caller of
# deliverRestockBatch, and the caller of fan-out continuations.
resource "google_service_account" "tasks_invoker" {
  account_id   = "${var.name_prefix}restock-tasks-invoker"
  display_name = "Restock fan-out: Cloud Tasks invoker"
  description  = "Signs the OIDC tokens of delivery and continuation tasks."

  depends_on = [google_project_service.enabled]
}

# The identity Pub/Sub puts in each push's OIDC token.
resource "google_service_account" "pubsub_push" {
  account_id   = "${var.name_prefix}restock-pubsub-push"
  display_name = "Restock fan-out: Pub/Sub push invoker"
  description  = "Signs the OIDC tokens of inventory-updated pushes to fanOutRestock."

  depends_on = [google_project_service.enabled]
}

# The identity Pub/Sub puts in each push of the shopper-actions subscription:
# the only caller of applyShopperActions.
resource "google_service_account" "shopper_actions_push" {
  count = local.sends_links ? 1 : 0

  account_id   = "${var.name_prefix}restock-actions-push"
  display_name = "Restock fan-out: shopper-actions push invoker"
  description  = "Signs the OIDC tokens of shopper-actions pushes to applyShopperActions."

  depends_on = [google_project_service.enabled]
}

# Builds the functions from the source archive (instead of the default compute
# account, which new projects no longer grant anything).
resource "google_service_account" "build" {
  account_id   = "${var.name_prefix}restock-build"
  display_name = "Restock fan-out: function builds"
  description  = "Runs Cloud Build for the restock functions."

  depends_on = [google_project_service.enabled]
}

# ---------------------------------------------------------------- Firestore

# Firestore has no per-collection IAM; each function that uses the pipeline's
# database gets datastore.user on that database only (an IAM condition on its
# name), so it cannot read or write the project's other databases. The public
# restockUnsubscribe gets none (issue 31 item 8: it only publishes a request),
# nor does the relay (it reads the inventory service's outbox, terraform/outbox.tf).
resource "google_project_iam_member" "function_firestore" {
  for_each = { for name, fn in local.deployed_functions : name => fn if fn.pipeline_database }

  project = var.project_id
  role    = "roles/datastore.user"
  member  = "serviceAccount:${google_service_account.function[each.key].email}"

  condition {
    title       = "${local.names.firestore_database} database only"
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

# Delivery re-enqueues the recipients it holds back for their send window
# (RESTOCK_SEND_WINDOW, docs/send-windows.md) as delayed tasks on the delivery
# queues, as the queue identity: the delivery queues only, never continuations.
# Only with a send window does delivery enqueue (its held sends): least privilege otherwise.
resource "google_cloud_tasks_queue_iam_member" "delivery_holds" {
  count = var.send_window == "" ? 0 : var.delivery_queue_count

  project  = var.project_id
  location = google_cloud_tasks_queue.deliveries[count.index].location
  name     = google_cloud_tasks_queue.deliveries[count.index].name
  role     = "roles/cloudtasks.enqueuer"
  member   = "serviceAccount:${google_service_account.function["deliverRestockBatch"].email}"
}

resource "google_service_account_iam_member" "delivery_acts_as_tasks_invoker" {
  count = var.send_window == "" ? 0 : 1

  service_account_id = google_service_account.tasks_invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.function["deliverRestockBatch"].email}"
}

resource "google_secret_manager_secret" "notifier_token" {
  secret_id = local.names.notifier_token_secret

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

# The token's value, written through a write-only argument: it is sent to Secret
# Manager when notifier_token_version changes and is never stored in the plan
# or the state. Creating it here means a first apply needs no manual step, and
# deliverRestockBatch (which reads `latest` at deploy) always finds a version.
# Written only while a channel goes through the notification service: with
# every channel direct there is no token to give.
resource "google_secret_manager_secret_version" "notifier_token" {
  count = local.uses_notifier ? 1 : 0

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

# ---------------------------------------------------------------- task signing

# The keys that sign the body of every delivery and continuation task (an HMAC
# header, issue 31 item 1): a token that passed Cloud Run's IAM check is not
# enough to deliver anything, the body must carry the signature too. Fan-out
# signs (and verifies its continuations), delivery verifies; written like the
# notifier token, so neither ever starts without a key.
resource "google_secret_manager_secret" "task_signing_key" {
  secret_id = local.names.task_signing_key_secret

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret_version" "task_signing_key" {
  secret                 = google_secret_manager_secret.task_signing_key.id
  secret_data_wo         = var.task_signing_keys
  secret_data_wo_version = var.task_signing_key_version
}

resource "google_secret_manager_secret_iam_member" "task_signing_key_readers" {
  for_each = toset(["fanOutRestock", "deliverRestockBatch"])

  secret_id = google_secret_manager_secret.task_signing_key.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.function[each.key].email}"
}

# ---------------------------------------------------------------- invokers

# Who may call which function: roles/run.invoker on the Cloud Run service of a
# gen2 function. Authoritative (issue 31 item 1): each binding lists every
# invoker of its service and removes any other, an allUsers added by hand
# included, on the next apply. fan-out and delivery trust the claims of tokens
# Cloud Run's IAM check passed (RESTOCK_BEHIND_CLOUD_RUN_IAM): that is only sound
# while nobody else may invoke them. Project-level grants (Owner, Editor,
# run.invoker on the project) still reach every service; grant them to nobody
# who is not an operator.
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
    # The shopper-actions push identity only.
    applyShopperActions = { for sa in google_service_account.shopper_actions_push : "shopper_actions_push" => "serviceAccount:${sa.email}" }
    # The scheduler's identity only (terraform/outbox.tf).
    relayOutbox = {
      outbox_scheduler = "serviceAccount:${google_service_account.outbox_scheduler.email}"
    }
  }

  # Every deployed function but the public restockUnsubscribe.
  private_functions = setsubtract(keys(local.deployed_functions), ["restockUnsubscribe"])
}

# The push subscriptions wait for their own function's invokers only, so each
# of those two has a binding of its own: a refused grant elsewhere (a
# storefront account the organisation policy rejects) never holds back the
# pipeline's trigger (issue 30 item 4).
resource "google_cloud_run_v2_service_iam_binding" "fanout_invokers" {
  project  = var.project_id
  location = var.region
  name     = local.function_services["fanOutRestock"]
  role     = "roles/run.invoker"
  members  = values(local.service_invokers.fanOutRestock)
}

resource "google_cloud_run_v2_service_iam_binding" "shopper_actions_invokers" {
  count = local.sends_links ? 1 : 0

  project  = var.project_id
  location = var.region
  name     = local.function_services["applyShopperActions"]
  role     = "roles/run.invoker"
  members  = values(local.service_invokers.applyShopperActions)
}

# The other private functions. A binding needs at least one member: with no
# storefront account listed, restockSubscriptions has none (the check below
# still watches it).
resource "google_cloud_run_v2_service_iam_binding" "invokers" {
  for_each = { for name in setsubtract(local.private_functions, ["fanOutRestock", "applyShopperActions"]) : name => values(local.service_invokers[name]) if length(local.service_invokers[name]) > 0 }

  project  = var.project_id
  location = var.region
  name     = local.function_services[each.key]
  role     = "roles/run.invoker"
  members  = each.value
}

# Anyone may call restockUnsubscribe: the signed token in the URL is the only
# credential, and the function serves that one route. Where the organisation
# enforces domain-restricted sharing, allUsers is refused: set
# unsubscribe_allow_unauthenticated = false and disable the service's invoker
# IAM check instead (docs/channels.md), the way Google recommends under that
# constraint (cloud.google.com/run/docs/authenticating/public: "Disable the
# Cloud Run Invoker IAM check (recommended) ... when the project is subject to
# the domain restricted sharing constraint").
resource "google_cloud_run_v2_service_iam_member" "unsubscribe_public" {
  count = local.sends_links && var.unsubscribe_allow_unauthenticated ? 1 : 0

  project  = var.project_id
  location = var.region
  name     = local.function_services["restockUnsubscribe"]
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# The additive grants of earlier versions are now the bindings above. Forgotten
# rather than destroyed: destroying a member resource removes its member from
# the service's policy, which could race the binding that keeps it.
removed {
  from = google_cloud_run_v2_service_iam_member.invoker

  lifecycle {
    destroy = false
  }
}

# What the bindings cannot prevent between two applies: a public member or a
# disabled invoker IAM check (`gcloud run services update --no-invoker-iam-check`)
# on a private service, set by hand or by another tool. Every plan reads each
# private service's policy and settings and warns if either is found; the
# public-invoker alert (terraform/monitoring.tf) reports it when it happens.
data "google_cloud_run_v2_service_iam_policy" "private" {
  for_each = local.private_functions

  project  = var.project_id
  location = var.region
  name     = local.function_services[each.key]
}

data "google_cloud_run_v2_service" "private" {
  for_each = local.private_functions

  project  = var.project_id
  location = var.region
  name     = local.function_services[each.key]
}

check "private_services_stay_private" {
  assert {
    condition     = alltrue([for name, policy in data.google_cloud_run_v2_service_iam_policy.private : !can(regex("allUsers|allAuthenticatedUsers", policy.policy_data))])
    error_message = "A private function's Cloud Run service has a public invoker (allUsers or allAuthenticatedUsers): ${join(", ", [for name, policy in data.google_cloud_run_v2_service_iam_policy.private : name if can(regex("allUsers|allAuthenticatedUsers", policy.policy_data))])}. Anyone could forge restock events and tasks; run terraform apply to restore the bindings and find who added it."
  }

  assert {
    condition     = alltrue([for name, service in data.google_cloud_run_v2_service.private : !coalesce(service.invoker_iam_disabled, false)])
    error_message = "A private function's Cloud Run service has its invoker IAM check disabled: ${join(", ", [for name, service in data.google_cloud_run_v2_service.private : name if coalesce(service.invoker_iam_disabled, false)])}. Turn it back on: gcloud run services update <service> --invoker-iam-check."
  }
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

# Cloud Functions copies the uploaded archive into its own staging bucket,
# gcf-v2-sources-<project number>-<region>, and the build reads it from there
# (hashicorp/terraform-provider-google#20571: "Access to bucket gcf-v2-sources-...
# denied" with a custom build service account). That bucket is created by the
# first deploy, so no grant on it can exist before: a project-level grant
# conditioned on the bucket's name, waited for with the other grants.
resource "google_project_iam_member" "build_reads_function_sources" {
  project = var.project_id
  role    = "roles/storage.objectViewer"
  member  = "serviceAccount:${google_service_account.build.email}"

  condition {
    title       = "gcf-v2-sources bucket only"
    description = "The staging bucket Cloud Functions copies each function's source into."
    expression  = "resource.name.startsWith(\"projects/_/buckets/gcf-v2-sources-${local.project_number}-${var.region}\")"
  }
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
# first revision, which reads its secrets, its database and its topic) waits
# for every grant to the build identity and to the functions' runtime
# identities rather than failing on a permission that exists but has not
# propagated. Waited only when a grant is created or replaced.
resource "time_sleep" "iam_propagation" {
  create_duration = "${var.iam_propagation_seconds}s"

  triggers = {
    grants = join(",", concat(
      [
        google_storage_bucket_iam_member.build_reads_source.id,
        google_project_iam_member.build_reads_function_sources.id,
        google_artifact_registry_repository_iam_member.build_writes_images.id,
        google_project_iam_member.build_log_writer.id,
        google_secret_manager_secret_iam_member.delivery_reads_notifier_token.id,
        # The direct channels' secrets (terraform/channels.tf).
        google_secret_manager_secret_iam_member.delivery_reads_smtp_password.id,
        google_secret_manager_secret_iam_member.delivery_reads_dkim_private_key.id,
        google_secret_manager_secret_iam_member.delivery_reads_webpush_vapid_private_key.id,
        # The relay publishes and reads the outbox (terraform/outbox.tf).
        google_pubsub_topic_iam_member.outbox_relay_publishes.id,
        # Fan-out enqueues continuations as the tasks identity from its first request.
        google_cloud_tasks_queue_iam_member.fanout_continues.id,
        google_service_account_iam_member.fanout_acts_as_tasks_invoker.id,
      ],
      [for grant in google_service_account_iam_member.delivery_acts_as_tasks_invoker : grant.id],
      [for grant in google_cloud_tasks_queue_iam_member.fanout_enqueuer : grant.id],
      [for grant in google_cloud_tasks_queue_iam_member.delivery_holds : grant.id],
      [for grant in google_project_iam_member.function_firestore : grant.id],
      [for grant in google_secret_manager_secret_iam_member.unsubscribe_key_readers : grant.id],
      [for grant in google_secret_manager_secret_iam_member.task_signing_key_readers : grant.id],
      [for grant in google_project_iam_member.metric_writer : grant.id],
      [for grant in google_pubsub_topic_iam_member.unsubscribe_publishes_shopper_actions : grant.id],
      [for grant in google_project_iam_member.outbox_relay_firestore : grant.id],
      [for grant in google_spanner_database_iam_member.outbox_relay_fine_grained_access : grant.id],
      [for grant in google_spanner_database_iam_member.outbox_relay_database_role : grant.id],
      [for grant in google_project_iam_member.delivery_fcm_sender : grant.id],
      # Consent (terraform/consent.tf): the pseudonym key and the confirmation emails' secrets.
      [for grant in google_secret_manager_secret_iam_member.pseudonym_key_readers : grant.id],
      [for grant in google_secret_manager_secret_iam_member.subscriptions_reads_smtp_password : grant.id],
      [for grant in google_secret_manager_secret_iam_member.subscriptions_reads_dkim_private_key : grant.id],
    ))
  }
}

# The token's version became conditional (every channel direct needs none):
# an existing deployment keeps its version instead of replacing it.
moved {
  from = google_secret_manager_secret_version.notifier_token
  to   = google_secret_manager_secret_version.notifier_token[0]
}
