output "function_urls" {
  description = "URL of each function: the deterministic run.app address the pipeline calls and its OIDC audiences name (the one Cloud Run counts as internal for Pub/Sub and Cloud Tasks)."
  value       = local.function_urls
}

output "function_run_uris" {
  description = "URI Cloud Run reports for the service behind each function (the deterministic run.app URL when the name allows it; compare with function_urls after the first apply)."
  value       = { for name, fn in google_cloudfunctions2_function.function : name => fn.service_config[0].uri }
}

output "subscriptions_api_url" {
  description = "Where storefront backends call restockSubscriptions (with an ID token for this audience)."
  value       = local.function_urls["restockSubscriptions"]
}

output "topic_name" {
  description = "Topic the inventory service publishes inventory.updated events to."
  value       = google_pubsub_topic.inventory_updated.name
}

output "fanout_subscription_name" {
  description = "Push subscription that triggers fanOutRestock."
  value       = google_pubsub_subscription.fanout.name
}

output "dead_letter_topic_name" {
  description = "Topic that receives events fan-out could not handle."
  value       = google_pubsub_topic.dead_letter.name
}

output "dead_letter_subscription_name" {
  description = "Pull subscription the CLI reads dead letters from (RESTOCK_DEAD_LETTER_SUBSCRIPTION)."
  value       = google_pubsub_subscription.dead_letter.name
}

output "queue_name" {
  description = "The first delivery queue (RESTOCK_TASKS_QUEUE)."
  value       = google_cloud_tasks_queue.deliveries[0].name
}

output "queue_id" {
  description = "Full resource name of the first delivery queue."
  value       = google_cloud_tasks_queue.deliveries[0].id
}

output "delivery_queue_names" {
  description = "Every delivery queue, in shard order (the chunks are spread over them)."
  value       = google_cloud_tasks_queue.deliveries[*].name
}

output "continuation_queue_name" {
  description = "Cloud Tasks queue of the fan-out continuations (RESTOCK_CONTINUATION_QUEUE)."
  value       = google_cloud_tasks_queue.continuations.name
}

output "service_accounts" {
  description = "Email of every identity created: one runtime account per deployed function, the task and push invokers, the outbox scheduler, the build account."
  value = merge(
    { for name, sa in google_service_account.function : name => sa.email },
    { for sa in google_service_account.shopper_actions_push : "shopper_actions_push" => sa.email },
    {
      tasks_invoker    = google_service_account.tasks_invoker.email
      pubsub_push      = google_service_account.pubsub_push.email
      outbox_scheduler = google_service_account.outbox_scheduler.email
      build            = google_service_account.build.email
    },
  )
}

output "notifier_token_secret" {
  description = "Secret Manager secret whose latest version is the notifier's bearer token (written from the notifier_token variable; rotate by raising notifier_token_version)."
  value       = google_secret_manager_secret.notifier_token.secret_id
}

output "task_signing_key_secret" {
  description = "Secret Manager secret whose latest version holds the task signing keys (RESTOCK_TASK_SIGNING_KEYS of fanOutRestock and deliverRestockBatch; the CLI's replay and redrive sign with it too). Written from task_signing_keys; rotate by raising task_signing_key_version."
  value       = google_secret_manager_secret.task_signing_key.secret_id
}

output "cli_env" {
  description = "Environment for the restock CLI against this deployment."
  value = {
    GOOGLE_CLOUD_PROJECT             = var.project_id
    RESTOCK_FIRESTORE_DATABASE       = google_firestore_database.pipeline.name
    RESTOCK_TASKS_LOCATION           = var.region
    RESTOCK_TASKS_QUEUE              = google_cloud_tasks_queue.deliveries[0].name
    RESTOCK_TASKS_QUEUE_COUNT        = tostring(var.delivery_queue_count)
    RESTOCK_CONTINUATION_QUEUE       = google_cloud_tasks_queue.continuations.name
    RESTOCK_DELIVERY_URL             = local.function_urls["deliverRestockBatch"]
    RESTOCK_FANOUT_URL               = local.function_urls["fanOutRestock"]
    RESTOCK_TASKS_SERVICE_ACCOUNT    = google_service_account.tasks_invoker.email
    RESTOCK_DELIVERY_MAX_ATTEMPTS    = tostring(var.delivery_max_attempts)
    RESTOCK_TOPIC                    = google_pubsub_topic.inventory_updated.name
    RESTOCK_DEAD_LETTER_SUBSCRIPTION = google_pubsub_subscription.dead_letter.name
    RESTOCK_NOTIFIER                 = var.notifier
    RESTOCK_NOTIFIER_URL             = var.notifier_url
  }
}
