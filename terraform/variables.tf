# Every input of the deployment. Pipeline settings are named after the
# environment variable they feed (see locals.tf and docs/deploy.md); their bounds mirror lib/config.ts so a bad value fails at plan
# time instead of at function start.

# ---------------------------------------------------------------- project

variable "project_id" {
  description = "Google Cloud project that receives the whole pipeline."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a project ID (6-30 lowercase letters, digits and hyphens), not a project number or name."
  }
}

variable "region" {
  description = "Region of the functions, the Cloud Tasks queue and the source bucket."
  type        = string
  default     = "us-central1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Google Cloud region such as us-central1 or europe-west1."
  }
}

variable "labels" {
  description = "Labels added to every resource that supports them."
  type        = map(string)
  default     = { app = "restock-fanout" }

  validation {
    condition     = alltrue([for k, v in var.labels : can(regex("^[a-z][a-z0-9_-]{0,62}$", k)) && can(regex("^[a-z0-9_-]{0,63}$", v))])
    error_message = "labels keys must start with a lowercase letter; keys and values use lowercase letters, digits, _ and - (at most 63)."
  }
}

variable "name_prefix" {
  description = "Put before the name of everything this creates that is named within the project (functions, service accounts, topics, subscriptions, queues, secrets, the Firestore database, buckets, metrics, alerts), so two deployments (staging and production) can share a project: e.g. stg-. Empty by default, which keeps every name as it was."
  type        = string
  default     = ""

  validation {
    # At most 6 characters: the longest service account id (restock-subscriptions, 21) must stay within 30 with it.
    condition     = can(regex("^([a-z][a-z0-9]{0,4}-)?$", var.name_prefix))
    error_message = "name_prefix must be empty or 2-6 characters: a lowercase letter, up to 4 lowercase letters or digits, and a hyphen (e.g. stg-)."
  }
}

# ---------------------------------------------------------------- Pub/Sub

variable "topic_name" {
  description = "Topic the inventory service publishes inventory.updated events to."
  type        = string
  default     = "inventory-updated"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$", var.topic_name)) && !startswith(var.topic_name, "goog")
    error_message = "topic_name must be 3-255 characters, start with a letter, and not start with goog."
  }
}

variable "fanout_subscription_name" {
  description = "Push subscription that delivers events to fanOutRestock."
  type        = string
  default     = "inventory-updated-fanout"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$", var.fanout_subscription_name))
    error_message = "fanout_subscription_name must be 3-255 characters and start with a letter."
  }
}

variable "dead_letter_topic_name" {
  description = "Topic that receives events fan-out failed to handle after pubsub_max_delivery_attempts."
  type        = string
  default     = "inventory-updated-dead-letter"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$", var.dead_letter_topic_name)) && !startswith(var.dead_letter_topic_name, "goog")
    error_message = "dead_letter_topic_name must be 3-255 characters, start with a letter, and not start with goog."
  }
}

variable "dead_letter_subscription_name" {
  description = "Pull subscription on the dead-letter topic that `restock dead-letters` reads (the CLI's RESTOCK_DEAD_LETTER_SUBSCRIPTION)."
  type        = string
  default     = "inventory-updated-dead-letter"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$", var.dead_letter_subscription_name))
    error_message = "dead_letter_subscription_name must be 3-255 characters and start with a letter."
  }
}

variable "pubsub_max_delivery_attempts" {
  description = "Deliveries of one event to fan-out before Pub/Sub moves it to the dead-letter topic; fanOutRestock is told the same number (RESTOCK_PUBSUB_MAX_DELIVERY_ATTEMPTS)."
  type        = number
  default     = 10

  validation {
    condition     = var.pubsub_max_delivery_attempts >= 5 && var.pubsub_max_delivery_attempts <= 100 && floor(var.pubsub_max_delivery_attempts) == var.pubsub_max_delivery_attempts
    error_message = "pubsub_max_delivery_attempts must be a whole number from 5 to 100 (the Pub/Sub limits)."
  }
}

variable "pubsub_min_backoff_seconds" {
  description = "Shortest wait before Pub/Sub redelivers an event fan-out did not acknowledge (exponential backoff starts here)."
  type        = number
  default     = 10

  validation {
    condition     = var.pubsub_min_backoff_seconds >= 0 && var.pubsub_min_backoff_seconds <= 600
    error_message = "pubsub_min_backoff_seconds must be between 0 and 600."
  }
}

variable "pubsub_max_backoff_seconds" {
  description = "Longest wait between redeliveries of one event (exponential backoff stops growing here)."
  type        = number
  default     = 600

  validation {
    condition     = var.pubsub_max_backoff_seconds >= var.pubsub_min_backoff_seconds && var.pubsub_max_backoff_seconds <= 600
    error_message = "pubsub_max_backoff_seconds must be at least pubsub_min_backoff_seconds and at most 600."
  }
}

variable "dead_letter_retention_days" {
  description = "Days an unread message is kept on the dead-letter subscription (the operators' window to inspect and replay it; past 7 days Pub/Sub bills the storage)."
  type        = number
  default     = 31

  validation {
    condition     = var.dead_letter_retention_days >= 1 && var.dead_letter_retention_days <= 31 && floor(var.dead_letter_retention_days) == var.dead_letter_retention_days
    error_message = "dead_letter_retention_days must be a whole number from 1 to 31 (the longest a subscription keeps messages)."
  }
}

# ---------------------------------------------------------------- Cloud Tasks

variable "queue_name" {
  description = "The first delivery queue (RESTOCK_TASKS_QUEUE); with delivery_queue_count above 1 the others are <queue_name>-1 ... A deleted queue's name cannot be reused for about 7 days."
  type        = string
  default     = "restock-deliveries"

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,96}$", var.queue_name))
    error_message = "queue_name must be letters, digits and hyphens, at most 96 (room for a shard's -<n>)."
  }
}

variable "delivery_queue_count" {
  description = "Delivery queues the chunks are spread over (RESTOCK_TASKS_QUEUE_COUNT): one queue dispatches at most 500 tasks/s, so this times queue_max_dispatches_per_second is the pipeline's ceiling. Drain the queues before lowering it (docs/queues.md)."
  type        = number
  default     = 1

  validation {
    condition     = var.delivery_queue_count >= 1 && var.delivery_queue_count <= 100 && floor(var.delivery_queue_count) == var.delivery_queue_count
    error_message = "delivery_queue_count must be a whole number from 1 to 100."
  }
}

variable "continuation_queue_name" {
  description = "Cloud Tasks queue of the fan-out continuations (RESTOCK_CONTINUATION_QUEUE): a queue of its own, so they never wait behind the delivery backlog."
  type        = string
  default     = "restock-continuations"

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{1,96}$", var.continuation_queue_name))
    error_message = "continuation_queue_name must be letters, digits and hyphens, at most 96."
  }
}

variable "continuation_queue_max_dispatches_per_second" {
  description = "Fan-out continuations (hand-overs, key ranges, waves) the continuation queue dispatches per second. Few tasks: one per fan-out chain per time budget. Its concurrent dispatches are not a variable: they are derived from fanOutRestock's capacity (function_config), so Cloud Run never answers a continuation 429 for want of an instance."
  type        = number
  default     = 50

  validation {
    condition     = var.continuation_queue_max_dispatches_per_second > 0 && var.continuation_queue_max_dispatches_per_second <= 500
    error_message = "continuation_queue_max_dispatches_per_second must be above 0 and at most 500 (the Cloud Tasks limit)."
  }
}

variable "queue_max_dispatches_per_second" {
  description = "Tasks each delivery queue dispatches per second: with chunk_size recipients a task, this caps the rate toward the notification service (500 x 100 = 50,000 notifications/s per queue). 500 is Cloud Tasks' maximum (https://cloud.google.com/tasks/docs/reference/rpc/google.cloud.tasks.v2#ratelimits) and what one million shoppers in a minute needs (docs/deploy.md \"Speed defaults\"); lower it if the notification service cannot take that."
  type        = number
  default     = 500

  validation {
    condition     = var.queue_max_dispatches_per_second > 0 && var.queue_max_dispatches_per_second <= 500
    error_message = "queue_max_dispatches_per_second must be above 0 and at most 500 (the Cloud Tasks limit)."
  }
}

variable "queue_max_concurrent_dispatches" {
  description = "Tasks in flight at once per delivery queue (each one a deliverRestockBatch request); bounds concurrent load on the notifier together with send_concurrency. At 500 tasks/s and about 0.2 s a chunk, one queue keeps about 100 in flight: 200 leaves room for slower notifier answers (Cloud Tasks allows up to 5,000)."
  type        = number
  default     = 200

  validation {
    condition     = var.queue_max_concurrent_dispatches >= 1 && var.queue_max_concurrent_dispatches <= 5000 && floor(var.queue_max_concurrent_dispatches) == var.queue_max_concurrent_dispatches
    error_message = "queue_max_concurrent_dispatches must be a whole number from 1 to 5000."
  }
}

variable "delivery_max_attempts" {
  description = "Attempts of one task, used both as the queue's retry_config.max_attempts and as RESTOCK_DELIVERY_MAX_ATTEMPTS, so the function knows the last attempt (deliveries still failing then become exhausted)."
  type        = number
  default     = 10

  validation {
    condition     = var.delivery_max_attempts >= 1 && var.delivery_max_attempts <= 100 && floor(var.delivery_max_attempts) == var.delivery_max_attempts
    error_message = "delivery_max_attempts must be a whole number from 1 to 100 (unlimited attempts would never mark a delivery exhausted)."
  }
}

variable "queue_min_backoff_seconds" {
  description = "Shortest wait before a failed task is retried."
  type        = number
  default     = 5

  validation {
    condition     = var.queue_min_backoff_seconds >= 0.1 && var.queue_min_backoff_seconds <= 3600
    error_message = "queue_min_backoff_seconds must be between 0.1 and 3600."
  }
}

variable "queue_max_backoff_seconds" {
  description = "Longest wait between retries of a task."
  type        = number
  default     = 300

  validation {
    condition     = var.queue_max_backoff_seconds >= var.queue_min_backoff_seconds && var.queue_max_backoff_seconds <= 3600
    error_message = "queue_max_backoff_seconds must be at least queue_min_backoff_seconds and at most 3600."
  }
}

variable "queue_max_doublings" {
  description = "Times the retry interval doubles before growing linearly up to queue_max_backoff_seconds."
  type        = number
  default     = 5

  validation {
    condition     = var.queue_max_doublings >= 0 && var.queue_max_doublings <= 16 && floor(var.queue_max_doublings) == var.queue_max_doublings
    error_message = "queue_max_doublings must be a whole number from 0 to 16."
  }
}

variable "queue_max_retry_duration_seconds" {
  description = "Time limit for retrying a task, from its first attempt; 0 means only delivery_max_attempts limits retries."
  type        = number
  default     = 0

  validation {
    condition     = var.queue_max_retry_duration_seconds >= 0 && floor(var.queue_max_retry_duration_seconds) == var.queue_max_retry_duration_seconds
    error_message = "queue_max_retry_duration_seconds must be a whole number, 0 or more."
  }
}

variable "queue_logging_sampling_ratio" {
  description = "Fraction of task dispatch attempts Cloud Tasks logs to Cloud Logging. deliverRestockBatch logs every chunk's outcome itself, so the default keeps a 1% sample for latency and error rates, not one line per task (1 logs every attempt)."
  type        = number
  default     = 0.01

  validation {
    condition     = var.queue_logging_sampling_ratio >= 0 && var.queue_logging_sampling_ratio <= 1
    error_message = "queue_logging_sampling_ratio must be between 0 and 1."
  }
}

# ---------------------------------------------------------------- functions

variable "runtime" {
  description = "Node.js runtime of the functions. nodejs24 is supported until 2028-04-30 (nodejs22 until 2027-04-30); the suite runs on Node 20 and 24."
  type        = string
  default     = "nodejs24"

  validation {
    condition     = contains(["nodejs22", "nodejs24"], var.runtime)
    error_message = "runtime must be nodejs22 or nodejs24 (the runtimes Cloud Run functions supports that this code is tested on)."
  }
}

variable "source_retention_days" {
  description = "Days an uploaded source archive is kept in the source bucket. Cloud Functions copies the source it builds into its own bucket at deploy, so an old archive serves nothing; if the current one expires, the next apply uploads it again (same name, no redeploy)."
  type        = number
  default     = 30

  validation {
    condition     = var.source_retention_days >= 1 && floor(var.source_retention_days) == var.source_retention_days
    error_message = "source_retention_days must be a whole number of days, 1 or more."
  }
}

variable "image_versions_kept" {
  description = "Most recent image versions kept per function in the functions' image repository; older ones are deleted by its cleanup policy (a rollback needs at most the last few)."
  type        = number
  default     = 5

  validation {
    condition     = var.image_versions_kept >= 1 && var.image_versions_kept <= 100 && floor(var.image_versions_kept) == var.image_versions_kept
    error_message = "image_versions_kept must be a whole number from 1 to 100."
  }
}

# One object for the sizing of every function, each field optional with its
# default, the shape of cloud-foundation-fabric's modules/cloud-function-v2
# `function_config` (an object of optional() fields with defaults) instead of
# one variable per function and field. Set only what differs, e.g.
#   function_config = { deliverRestockBatch = { max_instances = 1000 } }
variable "function_config" {
  description = "Sizing of each function, every field optional: memory (256Mi, 1Gi...), cpu (whole vCPUs 1, 2, 4, 6 or 8; null takes Cloud Run's share of memory), concurrency (requests one instance serves at once; above 1 needs cpu of 1 or more), timeout_seconds, min_instances (kept warm), max_instances, ingress. Defaults: fanOutRestock 512Mi, 540 s, 1 warm, 40 at most, internal only; deliverRestockBatch 256Mi, 300 s, 1 warm, 200 at most, internal only; restockSubscriptions 256Mi, 30 s, 20 at most, ALLOW_ALL; restockUnsubscribe 256Mi, 30 s, 10 at most, ALLOW_ALL; applyShopperActions 256Mi, 60 s, 10 at most, internal only; relayOutbox 256Mi, 60 s, 1 at most, internal only."
  type = object({
    # Each key range of a fan-out is a request of its own, one per instance: keep
    # max_instances at least fanout_max_ranges plus room for other products' fan-outs.
    # 512Mi: its heap grows with page_size, not with the audience.
    fanOutRestock = optional(object({
      memory          = optional(string, "512Mi")
      cpu             = optional(number)
      concurrency     = optional(number, 1)
      timeout_seconds = optional(number, 540)
      min_instances   = optional(number, 1)
      max_instances   = optional(number, 40)
      ingress         = optional(string, "ALLOW_INTERNAL_ONLY")
    }), {})
    # max_instances x concurrency must cover delivery_queue_count x
    # queue_max_concurrent_dispatches (validated below; docs/deploy.md "Speed defaults").
    deliverRestockBatch = optional(object({
      memory          = optional(string, "256Mi")
      cpu             = optional(number)
      concurrency     = optional(number, 1)
      timeout_seconds = optional(number, 300)
      min_instances   = optional(number, 1)
      max_instances   = optional(number, 200)
      ingress         = optional(string, "ALLOW_INTERNAL_ONLY")
    }), {})
    # ALLOW_ALL lets a storefront backend outside this project reach it; IAM still admits only storefront_service_accounts.
    restockSubscriptions = optional(object({
      memory          = optional(string, "256Mi")
      cpu             = optional(number)
      concurrency     = optional(number, 1)
      timeout_seconds = optional(number, 30)
      min_instances   = optional(number, 0)
      max_instances   = optional(number, 20)
      ingress         = optional(string, "ALLOW_ALL")
    }), {})
    # Public (mailbox providers call it): max_instances x concurrency caps what a flood of forged links can cost.
    restockUnsubscribe = optional(object({
      memory          = optional(string, "256Mi")
      cpu             = optional(number)
      concurrency     = optional(number, 1)
      timeout_seconds = optional(number, 30)
      min_instances   = optional(number, 0)
      max_instances   = optional(number, 10)
      ingress         = optional(string, "ALLOW_ALL")
    }), {})
    applyShopperActions = optional(object({
      memory          = optional(string, "256Mi")
      cpu             = optional(number)
      concurrency     = optional(number, 1)
      timeout_seconds = optional(number, 60)
      min_instances   = optional(number, 0)
      max_instances   = optional(number, 10)
      ingress         = optional(string, "ALLOW_INTERNAL_ONLY")
    }), {})
    # One sweep at a time is plenty; two would only contend for rows. Its sweep budget is 15 s less than its timeout.
    relayOutbox = optional(object({
      memory          = optional(string, "256Mi")
      cpu             = optional(number)
      concurrency     = optional(number, 1)
      timeout_seconds = optional(number, 60)
      min_instances   = optional(number, 0)
      max_instances   = optional(number, 1)
      ingress         = optional(string, "ALLOW_INTERNAL_ONLY")
    }), {})
  })
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for f in values(var.function_config) : can(regex("^[0-9]+(Mi|Gi|M|G)$", f.memory))])
    error_message = "function_config: every memory must look like 256Mi, 512Mi, 1Gi or 2G."
  }

  validation {
    condition     = alltrue([for f in values(var.function_config) : f.cpu == null ? true : contains([1, 2, 4, 6, 8], f.cpu)])
    error_message = "function_config: cpu must be 1, 2, 4, 6 or 8 (whole vCPUs), or null for Cloud Run's share of memory."
  }

  validation {
    # Cloud Run's table of vCPUs and memory (cloud.google.com/run/docs/configuring/services/cpu):
    # 1 vCPU up to 4 GiB, 2 up to 8 GiB, 4 from 2 to 16 GiB, 6 from 4 to 24 GiB, 8 from 4 to 32 GiB.
    # A revision outside it is refused at deploy time, after the build.
    condition = alltrue([for f in values(var.function_config) : f.cpu == null ? true : !can(regex("^[0-9]+(Mi|Gi|M|G)$", f.memory)) ? true : (
      tonumber(regex("^[0-9]+", f.memory)) * lookup({ Mi = 1, Gi = 1024, M = 0.95367431640625, G = 953.67431640625 }, regex("[A-Za-z]+$", f.memory), 0) >= lookup({ "1" = 0, "2" = 0, "4" = 2048, "6" = 4096, "8" = 4096 }, tostring(f.cpu), 0) &&
      tonumber(regex("^[0-9]+", f.memory)) * lookup({ Mi = 1, Gi = 1024, M = 0.95367431640625, G = 953.67431640625 }, regex("[A-Za-z]+$", f.memory), 0) <= lookup({ "1" = 4096, "2" = 8192, "4" = 16384, "6" = 24576, "8" = 32768 }, tostring(f.cpu), 0)
    )])
    error_message = "function_config: cpu and memory must be a pair Cloud Run accepts: 1 vCPU up to 4Gi, 2 up to 8Gi, 4 from 2Gi to 16Gi, 6 from 4Gi to 24Gi, 8 from 4Gi to 32Gi."
  }

  validation {
    # With less than one vCPU an instance serves one request at a time (same page).
    condition     = alltrue([for f in values(var.function_config) : f.concurrency >= 1 && f.concurrency <= 1000 && floor(f.concurrency) == f.concurrency && (f.concurrency == 1 || coalesce(f.cpu, 0) >= 1)])
    error_message = "function_config: concurrency must be a whole number from 1 to 1000, and above 1 needs cpu of 1 or more (with less than one vCPU an instance serves one request at a time)."
  }

  validation {
    condition     = alltrue([for f in values(var.function_config) : f.max_instances >= 1 && f.max_instances <= 1000 && floor(f.max_instances) == f.max_instances && f.min_instances >= 0 && f.min_instances <= f.max_instances && floor(f.min_instances) == f.min_instances])
    error_message = "function_config: max_instances must be a whole number from 1 to 1000, and min_instances a whole number from 0 to max_instances."
  }

  validation {
    # fanOutRestock: the push subscription's ack deadline (at most 600 s) must cover a whole run, or
    # Pub/Sub would redeliver an event still being fanned out. deliverRestockBatch: lib/tasks sets no
    # dispatch deadline, so Cloud Tasks gives up on an HTTP task after its default 10 minutes and a
    # longer run would be retried while still running. relayOutbox: its sweep stops 15 s before.
    condition = alltrue([
      var.function_config.fanOutRestock.timeout_seconds >= 60 && var.function_config.fanOutRestock.timeout_seconds <= 600,
      var.function_config.deliverRestockBatch.timeout_seconds >= 15 && var.function_config.deliverRestockBatch.timeout_seconds <= 600,
      var.function_config.applyShopperActions.timeout_seconds >= 10 && var.function_config.applyShopperActions.timeout_seconds <= 600,
      var.function_config.relayOutbox.timeout_seconds >= 30 && var.function_config.relayOutbox.timeout_seconds <= 3600,
      var.function_config.restockSubscriptions.timeout_seconds >= 1 && var.function_config.restockSubscriptions.timeout_seconds <= 3600,
      var.function_config.restockUnsubscribe.timeout_seconds >= 1 && var.function_config.restockUnsubscribe.timeout_seconds <= 3600,
      alltrue([for f in values(var.function_config) : floor(f.timeout_seconds) == f.timeout_seconds]),
    ])
    error_message = "function_config: timeout_seconds must be whole seconds: fanOutRestock 60-600 (the longest Pub/Sub push ack deadline), deliverRestockBatch 15-600 (Cloud Tasks' default dispatch deadline for HTTP tasks), applyShopperActions 10-600, relayOutbox 30-3600, the others 1-3600."
  }

  validation {
    # restockUnsubscribe is called by mailbox providers from the internet: internal-only would break every link.
    condition     = alltrue([for name, f in var.function_config : contains(name == "restockUnsubscribe" ? ["ALLOW_ALL", "ALLOW_INTERNAL_AND_GCLB"] : ["ALLOW_ALL", "ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB"], f.ingress)])
    error_message = "function_config: ingress must be ALLOW_ALL, ALLOW_INTERNAL_ONLY or ALLOW_INTERNAL_AND_GCLB (restockUnsubscribe: ALLOW_ALL or ALLOW_INTERNAL_AND_GCLB, or every unsubscribe link breaks)."
  }

  validation {
    # Every dispatch a queue keeps in flight needs a request slot on its target, or Cloud Run answers
    # 429 and the attempt is spent (a continuation's last one fails the fan-out). The delivery queues'
    # target is deliverRestockBatch; the continuation queue's concurrency is derived from fanOutRestock's
    # capacity (locals.tf), so only delivery needs a check here.
    condition     = var.function_config.deliverRestockBatch.max_instances * var.function_config.deliverRestockBatch.concurrency >= var.delivery_queue_count * var.queue_max_concurrent_dispatches
    error_message = "function_config.deliverRestockBatch: max_instances x concurrency must be at least delivery_queue_count x queue_max_concurrent_dispatches, or dispatches meet no instance (429) and spend their attempts. Raise max_instances (or concurrency with cpu = 1), or lower the queues' concurrency."
  }
}

variable "fanout_time_budget_margin_seconds" {
  description = "How long before its timeout a fan-out stops paging and hands over to a continuation task."
  type        = number
  default     = 60

  validation {
    condition     = var.fanout_time_budget_margin_seconds >= 10 && var.fanout_time_budget_margin_seconds <= var.function_config.fanOutRestock.timeout_seconds - 30
    error_message = "fanout_time_budget_margin_seconds must be at least 10 and leave at least 30 seconds of budget below function_config.fanOutRestock.timeout_seconds."
  }
}

variable "storefront_service_accounts" {
  description = "Service accounts of the storefront backends allowed to call restockSubscriptions (emails, no prefix); at least one. Nobody else may invoke it. With one account, it acts for every shopper unless storefront_tenants says otherwise; with several, storefront_tenants must give each its prefix."
  type        = list(string)

  validation {
    condition     = length(var.storefront_service_accounts) >= 1
    error_message = "storefront_service_accounts must name at least one storefront backend: the subscription API refuses to start without a scope for its callers (docs/api.md)."
  }

  validation {
    condition     = alltrue([for e in var.storefront_service_accounts : can(regex("^[a-z0-9-]+@[a-z0-9-]+\\.iam\\.gserviceaccount\\.com$", e)) || can(regex("^[a-z0-9-]+@(appspot|developer)\\.gserviceaccount\\.com$", e)) || can(regex("^[0-9]+-compute@developer\\.gserviceaccount\\.com$", e))])
    error_message = "storefront_service_accounts must hold service account emails (name@project.iam.gserviceaccount.com); users, groups, allUsers and allAuthenticatedUsers are refused."
  }

  validation {
    condition     = length(distinct(var.storefront_service_accounts)) == length(var.storefront_service_accounts)
    error_message = "storefront_service_accounts must not list an account twice."
  }
}

variable "inventory_publishers" {
  description = "Service accounts of the inventory service (or its outbox relay) allowed to publish to the topic (emails, no prefix)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.inventory_publishers : can(regex("^[a-z0-9-]+@[a-z0-9-]+\\.iam\\.gserviceaccount\\.com$", e))])
    error_message = "inventory_publishers must hold service account emails (name@project.iam.gserviceaccount.com); users, groups, allUsers and allAuthenticatedUsers are refused."
  }
}

# ---------------------------------------------------------------- pipeline settings (lib/config.ts)

variable "log_level" {
  description = "LOG_LEVEL of every function: lowest severity written."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be debug, info, warn or error."
  }
}

variable "restock_threshold" {
  description = "RESTOCK_THRESHOLD: an update is a restock when previous <= threshold < available."
  type        = number
  default     = 0

  validation {
    condition     = var.restock_threshold >= 0 && floor(var.restock_threshold) == var.restock_threshold
    error_message = "restock_threshold must be a whole number, 0 or more."
  }
}

variable "page_size" {
  description = "RESTOCK_PAGE_SIZE: subscribers read per Firestore page (fan-out memory is proportional to it)."
  type        = number
  default     = 1000

  validation {
    condition     = var.page_size >= 1 && var.page_size <= 10000 && floor(var.page_size) == var.page_size
    error_message = "page_size must be a whole number from 1 to 10000."
  }
}

variable "wave_multiplier" {
  description = "RESTOCK_WAVE_MULTIPLIER: shoppers told per unit in stock, oldest sign-up first, in waves (docs/waves.md). 0 tells everyone at once. A product's inventory events may set its own."
  type        = number
  default     = 0

  validation {
    condition     = var.wave_multiplier >= 0 && var.wave_multiplier <= 1000
    error_message = "wave_multiplier must be from 0 (waves off) to 1000."
  }
}

variable "wave_interval_ms" {
  description = "RESTOCK_WAVE_INTERVAL_MS: time from the end of one wave to the start of the next."
  type        = number
  default     = 600000

  validation {
    condition     = var.wave_interval_ms >= 1 && var.wave_interval_ms <= 2592000000 && floor(var.wave_interval_ms) == var.wave_interval_ms
    error_message = "wave_interval_ms must be a whole number of milliseconds from 1 to 2592000000 (30 days, the furthest Cloud Tasks schedules)."
  }
}

variable "min_available_to_notify" {
  description = "RESTOCK_MIN_AVAILABLE_TO_NOTIFY: with waves on, a wave starts only while at least this many units are in stock."
  type        = number
  default     = 1

  validation {
    condition     = var.min_available_to_notify >= 1 && floor(var.min_available_to_notify) == var.min_available_to_notify
    error_message = "min_available_to_notify must be a whole number, 1 or more."
  }
}

variable "chunk_size" {
  description = "RESTOCK_CHUNK_SIZE: recipients per delivery task."
  type        = number
  default     = 100

  validation {
    condition     = var.chunk_size >= 1 && var.chunk_size <= 166 && floor(var.chunk_size) == var.chunk_size
    error_message = "chunk_size must be a whole number from 1 to 166 (the ledger claims of a chunk, one per recipient and each of the three channels, and its receipt must fit one Firestore commit of 500 writes)."
  }
}

variable "enqueue_concurrency" {
  description = "RESTOCK_ENQUEUE_CONCURRENCY: createTask calls in flight per fan-out."
  type        = number
  default     = 16

  validation {
    condition     = var.enqueue_concurrency >= 1 && var.enqueue_concurrency <= 500 && floor(var.enqueue_concurrency) == var.enqueue_concurrency
    error_message = "enqueue_concurrency must be a whole number from 1 to 500."
  }
}

variable "fanout_lease_ms" {
  description = "RESTOCK_FANOUT_LEASE_MS: how long a fan-out claim lasts without a checkpoint before another attempt may take over."
  type        = number
  default     = 60000

  validation {
    condition     = var.fanout_lease_ms >= 1 && floor(var.fanout_lease_ms) == var.fanout_lease_ms
    error_message = "fanout_lease_ms must be a positive whole number of milliseconds."
  }
}

variable "checkpoint_interval_ms" {
  description = "RESTOCK_CHECKPOINT_INTERVAL_MS: minimum time between checkpoints of one fan-out (keeps its document under about one write a second)."
  type        = number
  default     = 1000

  validation {
    condition     = var.checkpoint_interval_ms >= 0 && floor(var.checkpoint_interval_ms) == var.checkpoint_interval_ms
    error_message = "checkpoint_interval_ms must be a whole number of milliseconds, 0 or more."
  }
}

variable "fanout_range_target" {
  description = "RESTOCK_FANOUT_RANGE_TARGET: subscribers per key range; a fan-out splits its audience into about audience / this ranges paged in parallel."
  type        = number
  default     = 50000

  validation {
    condition     = var.fanout_range_target >= 1 && floor(var.fanout_range_target) == var.fanout_range_target
    error_message = "fanout_range_target must be a positive whole number."
  }
}

variable "fanout_min_ranges" {
  description = "RESTOCK_FANOUT_MIN_RANGES: fewest key ranges a fan-out with more than a page left splits into (1: small audiences page in one chain)."
  type        = number
  default     = 1

  validation {
    condition     = var.fanout_min_ranges >= 1 && var.fanout_min_ranges <= 64 && floor(var.fanout_min_ranges) == var.fanout_min_ranges
    error_message = "fanout_min_ranges must be a whole number from 1 to 64."
  }
}

variable "fanout_max_ranges" {
  description = "RESTOCK_FANOUT_MAX_RANGES: most key ranges one fan-out splits into (1 turns ranges off)."
  type        = number
  default     = 16

  validation {
    condition     = var.fanout_max_ranges >= 1 && var.fanout_max_ranges <= 64 && floor(var.fanout_max_ranges) == var.fanout_max_ranges && var.fanout_max_ranges >= var.fanout_min_ranges
    error_message = "fanout_max_ranges must be a whole number from 1 to 64, and at least fanout_min_ranges."
  }
}

variable "send_concurrency" {
  description = "RESTOCK_SEND_CONCURRENCY: notifier calls in flight per chunk."
  type        = number
  default     = 4

  validation {
    condition     = var.send_concurrency >= 1 && var.send_concurrency <= 100 && floor(var.send_concurrency) == var.send_concurrency
    error_message = "send_concurrency must be a whole number from 1 to 100."
  }
}

variable "notify_batch_size" {
  description = "RESTOCK_NOTIFY_BATCH_SIZE: notifications per notifier call."
  type        = number
  default     = 100

  validation {
    condition     = var.notify_batch_size >= 1 && var.notify_batch_size <= 1000 && floor(var.notify_batch_size) == var.notify_batch_size
    error_message = "notify_batch_size must be a whole number from 1 to 1000."
  }
}

variable "delivery_lease_ms" {
  description = "RESTOCK_DELIVERY_LEASE_MS: how long a claimed delivery stays sending before a retry may send it again. null (the default) takes deliverRestockBatch's timeout: a shorter lease lets a duplicate dispatch re-claim a chunk that is still being sent."
  type        = number
  default     = null

  validation {
    condition     = var.delivery_lease_ms == null ? true : var.delivery_lease_ms >= var.function_config.deliverRestockBatch.timeout_seconds * 1000 && floor(var.delivery_lease_ms) == var.delivery_lease_ms
    error_message = "delivery_lease_ms must be a whole number of milliseconds no shorter than function_config.deliverRestockBatch.timeout_seconds (a duplicate dispatch would re-claim a chunk still being sent), or null for exactly that timeout."
  }
}

variable "ledger_ttl_days" {
  description = "RESTOCK_LEDGER_TTL_DAYS: days a delivery ledger entry is kept before the Firestore TTL policy on expireAt deletes it."
  type        = number
  default     = 30

  validation {
    condition     = var.ledger_ttl_days >= 1 && floor(var.ledger_ttl_days) == var.ledger_ttl_days
    error_message = "ledger_ttl_days must be a positive whole number."
  }
}

variable "notifier" {
  description = "RESTOCK_NOTIFIER: the sender of every channel whose <channel>_sender is empty: http, the notification service (log, a dry run, is refused by the functions outside the emulators). With every channel's sender set to a direct one it is never used, and notifier_url and notifier_token may be left out."
  type        = string
  default     = "http"

  validation {
    condition     = contains(["http"], var.notifier)
    error_message = "notifier must be http (log is for the emulators only: deployed, it would record notifications as sent that nobody received)."
  }
}

variable "notifier_url" {
  description = "RESTOCK_NOTIFIER_URL: base URL of the notification service, its path kept (https://api.example.com/notify/ posts to /notify/v1/notifications:send); required when a channel's sender is http (its own, or notifier for an empty one)."
  type        = string
  default     = ""

  validation {
    condition     = var.notifier_url == "" ? !contains([var.email_sender == "" ? var.notifier : var.email_sender, var.push_sender == "" ? var.notifier : var.push_sender, var.webpush_sender == "" ? var.notifier : var.webpush_sender], "http") : can(regex("^https://[^\\s]+$", var.notifier_url))
    error_message = "notifier_url must be an https:// URL, and is required when a channel is sent through the notification service (email_sender, push_sender or webpush_sender http, or empty with notifier http)."
  }
}

variable "notifier_send_user_id" {
  description = "RESTOCK_NOTIFIER_SEND_USER_ID: send each notification's user id to the notification service (preferences, attribution); false for a service that must not learn who the shopper is."
  type        = bool
  default     = true
}

variable "notifier_token_secret_id" {
  description = "Secret Manager secret (created here, its version written from notifier_token) whose latest version becomes RESTOCK_NOTIFIER_TOKEN of deliverRestockBatch. name_prefix is put before it."
  type        = string
  default     = "restock-notifier-token"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,249}$", var.notifier_token_secret_id))
    error_message = "notifier_token_secret_id must be letters, digits, _ and -, at most 249 (255 with name_prefix)."
  }
}

variable "notifier_token" {
  description = "Bearer token of the notification service, required when a channel is sent through it (http). Ephemeral: written to Secret Manager through a write-only argument, never stored in the plan or the state; give it on every plan and apply (TF_VAR_notifier_token). Only sent when notifier_token_version changes."
  type        = string
  ephemeral   = true
  sensitive   = true
  default     = null

  validation {
    condition     = var.notifier_token == null ? !contains([var.email_sender == "" ? var.notifier : var.email_sender, var.push_sender == "" ? var.notifier : var.push_sender, var.webpush_sender == "" ? var.notifier : var.webpush_sender], "http") : length(var.notifier_token) >= 1
    error_message = "notifier_token is required (not empty) when a channel is sent through the notification service (email_sender, push_sender or webpush_sender http, or empty with notifier http); with every channel direct, leave it out."
  }
}

variable "notifier_token_version" {
  description = "Version number of notifier_token: raise it by one to write a new token (a rotation); Terraform sends the token only when this changes."
  type        = number
  default     = 1

  validation {
    condition     = var.notifier_token_version >= 1 && floor(var.notifier_token_version) == var.notifier_token_version
    error_message = "notifier_token_version must be a whole number, 1 or more."
  }
}

variable "task_signing_key_secret_id" {
  description = "Secret Manager secret (created here, its version written from task_signing_keys) whose latest version becomes RESTOCK_TASK_SIGNING_KEYS of fanOutRestock and deliverRestockBatch. name_prefix is put before it."
  type        = string
  default     = "restock-task-signing-key"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,249}$", var.task_signing_key_secret_id))
    error_message = "task_signing_key_secret_id must be letters, digits, _ and -, at most 249 (255 with name_prefix)."
  }
}

variable "task_signing_keys" {
  description = "Keys that sign and verify the bodies of delivery and continuation tasks (an HMAC header): comma-separated, the first signs, every one verifies, each at least 32 bytes; generate one with `openssl rand -base64 48`. Rotate by putting the new key first, keeping the old one after it until the queues have drained, and raising task_signing_key_version. Ephemeral: written to Secret Manager through a write-only argument, never stored in the plan or the state; give it on every plan and apply (TF_VAR_task_signing_keys)."
  type        = string
  ephemeral   = true
  sensitive   = true
  nullable    = false

  validation {
    condition     = alltrue([for key in split(",", var.task_signing_keys) : length(key) >= 32])
    error_message = "task_signing_keys must be comma-separated keys of at least 32 bytes each, none empty (openssl rand -base64 48 makes one)."
  }
}

variable "task_signing_key_version" {
  description = "Version number of task_signing_keys: raise it by one to write new keys (a rotation); Terraform sends them only when this changes."
  type        = number
  default     = 1

  validation {
    condition     = var.task_signing_key_version >= 1 && floor(var.task_signing_key_version) == var.task_signing_key_version
    error_message = "task_signing_key_version must be a whole number, 1 or more."
  }
}

variable "notifier_timeout_ms" {
  description = "RESTOCK_NOTIFIER_TIMEOUT_MS: timeout of one notifier call."
  type        = number
  default     = 10000

  validation {
    condition     = var.notifier_timeout_ms >= 1 && floor(var.notifier_timeout_ms) == var.notifier_timeout_ms
    error_message = "notifier_timeout_ms must be a positive whole number of milliseconds."
  }
}

variable "notifier_retries" {
  description = "RESTOCK_NOTIFIER_RETRIES: in-call retries of a notifier batch on 429/5xx/timeouts before the chunk is left to Cloud Tasks."
  type        = number
  default     = 2

  validation {
    condition     = var.notifier_retries >= 0 && var.notifier_retries <= 10 && floor(var.notifier_retries) == var.notifier_retries
    error_message = "notifier_retries must be a whole number from 0 to 10."
  }
}

variable "notifier_max_retry_after_ms" {
  description = "RESTOCK_NOTIFIER_MAX_RETRY_AFTER_MS: longest Retry-After waited in-call; longer waits are left to Cloud Tasks."
  type        = number
  default     = 5000

  validation {
    condition     = var.notifier_max_retry_after_ms >= 0 && floor(var.notifier_max_retry_after_ms) == var.notifier_max_retry_after_ms
    error_message = "notifier_max_retry_after_ms must be a whole number of milliseconds, 0 or more."
  }
}

variable "storefront_tenants" {
  description = "RESTOCK_STOREFRONT_TENANTS: account=prefix pairs, comma-separated: each storefront service account may act only for user ids starting with its prefix (* for every id); prefixes may not overlap. Empty with one storefront account: that account, for every id (account=*); required with several."
  type        = string
  default     = ""

  validation {
    condition     = var.storefront_tenants == "" || can(regex("^[^\\s,=@]+@[^\\s,=@]+=[^\\s,=/]{1,64}(,[^\\s,=@]+@[^\\s,=@]+=[^\\s,=/]{1,64})*$", var.storefront_tenants))
    error_message = "storefront_tenants must be account@project.iam.gserviceaccount.com=prefix pairs separated by commas (prefix: 1-64 characters without spaces, ',', '=' or '/', or *)."
  }

  validation {
    condition     = var.storefront_tenants != "" || length(var.storefront_service_accounts) <= 1
    error_message = "storefront_tenants is required with more than one storefront service account: give each its prefix of user ids (account=prefix,...), so no storefront acts for another's shoppers."
  }
}

variable "max_subscriptions_per_user" {
  description = "RESTOCK_MAX_SUBSCRIPTIONS_PER_USER: active subscriptions one shopper may hold; live pending requests (double opt-in) take places too."
  type        = number
  default     = 50

  validation {
    condition     = var.max_subscriptions_per_user >= 1 && floor(var.max_subscriptions_per_user) == var.max_subscriptions_per_user
    error_message = "max_subscriptions_per_user must be a positive whole number."
  }
}

variable "max_body_bytes" {
  description = "RESTOCK_MAX_BODY_BYTES: largest request body any function accepts."
  type        = number
  default     = 65536

  validation {
    condition     = var.max_body_bytes >= 1024 && floor(var.max_body_bytes) == var.max_body_bytes
    error_message = "max_body_bytes must be a whole number of bytes, at least 1024."
  }
}

# ---------------------------------------------------------------- Firestore

variable "firestore_database" {
  description = "Firestore database created for the pipeline's own data (RESTOCK_FIRESTORE_DATABASE of every function): never the project's (default), which may hold collections of the same names."
  type        = string
  default     = "restock-fanout"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,61}[a-z0-9]$", var.firestore_database)) && length(var.name_prefix) + length(var.firestore_database) <= 63
    error_message = "firestore_database must be 4-63 lowercase letters, digits and hyphens (name_prefix included), starting with a letter and not ending with a hyphen (a named database; (default) is left to the project's other uses)."
  }
}

variable "firestore_location" {
  description = "Location of the pipeline's Firestore database (a multi-region such as nam5 or eur3, or a region). Fixed once created."
  type        = string
  default     = "nam5"

  validation {
    condition     = can(regex("^[a-z0-9-]+$", var.firestore_location))
    error_message = "firestore_location must be a Firestore location such as nam5, eur3 or us-central1."
  }
}

variable "firestore_backup_retention_days" {
  description = "Days each daily backup of the pipeline's database is kept (point-in-time recovery covers the last 7 days on top)."
  type        = number
  default     = 14

  validation {
    condition     = var.firestore_backup_retention_days >= 1 && var.firestore_backup_retention_days <= 98 && floor(var.firestore_backup_retention_days) == var.firestore_backup_retention_days
    error_message = "firestore_backup_retention_days must be a whole number from 1 to 98 (Firestore keeps a backup at most 14 weeks)."
  }
}

# ---------------------------------------------------------------- alerts

variable "notification_channels" {
  description = "Monitoring notification channels (full resource names, projects/<p>/notificationChannels/<id>) every alert notifies. Required: an alert nobody receives is no alert."
  type        = list(string)

  validation {
    condition     = length(var.notification_channels) >= 1
    error_message = "notification_channels must name at least one channel (create one with `gcloud beta monitoring channels create`, see docs/deploy.md)."
  }

  validation {
    condition     = alltrue([for c in var.notification_channels : can(regex("^projects/[^/]+/notificationChannels/[^/]+$", c))])
    error_message = "notification_channels must be full resource names: projects/<project>/notificationChannels/<id>."
  }
}

variable "alert_oldest_unacked_age_seconds" {
  description = "Alert when the oldest event fan-out has not acknowledged is older than this."
  type        = number
  default     = 900

  validation {
    condition     = var.alert_oldest_unacked_age_seconds >= 60
    error_message = "alert_oldest_unacked_age_seconds must be at least 60."
  }
}

variable "alert_queue_depth" {
  description = "Alert when more tasks than this wait in the queue for alert_duration_seconds."
  type        = number
  default     = 50000

  validation {
    condition     = var.alert_queue_depth >= 1
    error_message = "alert_queue_depth must be at least 1."
  }
}

variable "alert_continuation_queue_depth" {
  description = "Alert when more fan-out continuations than this wait in the continuation queue for alert_duration_seconds (a fan-out that is not progressing: each running fan-out keeps about one per key range there)."
  type        = number
  default     = 200

  validation {
    condition     = var.alert_continuation_queue_depth >= 1
    error_message = "alert_continuation_queue_depth must be at least 1."
  }
}

variable "alert_delivery_failures" {
  description = "Alert when deliverRestockBatch logs more errors than this within alert_duration_seconds."
  type        = number
  default     = 20

  validation {
    condition     = var.alert_delivery_failures >= 0
    error_message = "alert_delivery_failures must be 0 or more."
  }
}

variable "alert_failed_fanouts" {
  description = "Alert when more fan-outs than this end failed (fanOutRestock's restock.events metric, outcome failed) within alert_duration_seconds; 0 alerts on the first."
  type        = number
  default     = 0

  validation {
    condition     = var.alert_failed_fanouts >= 0 && floor(var.alert_failed_fanouts) == var.alert_failed_fanouts
    error_message = "alert_failed_fanouts must be a whole number, 0 or more."
  }
}

variable "log_metric_propagation_seconds" {
  description = "How long a new log-based metric is given before an alert policy is created on it (Cloud Monitoring may take up to 10 minutes to know it; hashicorp/terraform-provider-google#11102). Only waited when the metrics are created."
  type        = number
  default     = 600

  validation {
    condition     = var.log_metric_propagation_seconds >= 0 && floor(var.log_metric_propagation_seconds) == var.log_metric_propagation_seconds
    error_message = "log_metric_propagation_seconds must be a whole number of seconds, 0 or more."
  }
}

variable "iam_propagation_seconds" {
  description = "How long new IAM grants are given to propagate before the first function build uses them (IAM changes take up to a few minutes). Only waited when the grants are created."
  type        = number
  default     = 120

  validation {
    condition     = var.iam_propagation_seconds >= 0 && floor(var.iam_propagation_seconds) == var.iam_propagation_seconds
    error_message = "iam_propagation_seconds must be a whole number of seconds, 0 or more."
  }
}

variable "alert_duration_seconds" {
  description = "How long a condition must hold before an alert opens (and the window of the failure count)."
  type        = number
  default     = 300

  validation {
    condition     = var.alert_duration_seconds >= 60 && var.alert_duration_seconds % 60 == 0
    error_message = "alert_duration_seconds must be a whole number of minutes, in seconds (60, 120, 300...)."
  }
}

variable "metrics_exporter" {
  description = "RESTOCK_METRICS_EXPORTER of every function: where the pipeline's OpenTelemetry metrics go (cloud-monitoring, file or none). The dashboard and the failed fan-outs alert read cloud-monitoring."
  type        = string
  default     = "cloud-monitoring"

  validation {
    condition     = contains(["none", "file", "cloud-monitoring"], var.metrics_exporter)
    error_message = "metrics_exporter must be none, file or cloud-monitoring."
  }
}

variable "metrics_export_interval_ms" {
  description = "RESTOCK_METRICS_EXPORT_INTERVAL_MS: how often each function instance exports its metrics. Cloud Monitoring accepts a point of one series every 5 s at most."
  type        = number
  default     = 60000

  validation {
    condition     = var.metrics_export_interval_ms >= 5000 && floor(var.metrics_export_interval_ms) == var.metrics_export_interval_ms
    error_message = "metrics_export_interval_ms must be a whole number of milliseconds, at least 5000 (Cloud Monitoring's limit)."
  }
}

variable "send_window" {
  description = "RESTOCK_SEND_WINDOW: hours of the shopper's own day in which they may be told, HH:MM-HH:MM in 24-hour local time (08:00-21:00; may cross midnight). Outside it a recipient is held and told when it opens, after a fresh stock check (docs/send-windows.md). Empty: any hour."
  type        = string
  default     = ""

  validation {
    condition     = var.send_window == "" || can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]-(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$", var.send_window))
    error_message = "send_window must be HH:MM-HH:MM in 24-hour time (e.g. 08:00-21:00, or 21:00-08:00 across midnight), or empty for any hour."
  }
}

variable "default_time_zone" {
  description = "RESTOCK_DEFAULT_TIME_ZONE: IANA time zone of a shopper whose subscription names none; the send window is read on its clock."
  type        = string
  default     = "UTC"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$", var.default_time_zone))
    error_message = "default_time_zone must be an IANA time zone name such as UTC, Europe/Berlin or America/New_York."
  }
}
