# Variables of the direct channels (terraform/channels.tf): the settings of
# the smtp and fcm senders and of the public unsubscribe function. Kept apart
# from channels.tf because locals.tf reads them (test/unit/terraform evaluates
# locals.tf with every *variables.tf file).

# One <channel>_sender per channel of lib/channels.ts, offering its senders
# without `log`, which the functions refuse outside the emulators
# (test/unit/terraform/channels.test.ts compares them with the table).
variable "email_sender" {
  description = "RESTOCK_EMAIL_SENDER: smtp sends email directly, http through the notification service; empty follows notifier."
  type        = string
  default     = ""

  validation {
    condition     = var.email_sender == "" || contains(["smtp", "http"], var.email_sender)
    error_message = "email_sender must be empty, smtp or http (log is for the emulators only)."
  }
}

variable "push_sender" {
  description = "RESTOCK_PUSH_SENDER: fcm sends push through Firebase Cloud Messaging, http through the notification service; empty follows notifier."
  type        = string
  default     = ""

  validation {
    condition     = var.push_sender == "" || contains(["fcm", "http"], var.push_sender)
    error_message = "push_sender must be empty, fcm or http (log is for the emulators only)."
  }
}

variable "webpush_sender" {
  description = "RESTOCK_WEBPUSH_SENDER: webpush sends to each browser's push service (VAPID), http through the notification service; empty follows notifier."
  type        = string
  default     = ""

  validation {
    condition     = var.webpush_sender == "" || contains(["webpush", "http"], var.webpush_sender)
    error_message = "webpush_sender must be empty, webpush or http (log is for the emulators only)."
  }
}

variable "webpush_vapid_public_key" {
  description = "RESTOCK_WEBPUSH_VAPID_PUBLIC_KEY: the VAPID public key (base64url, 87 characters) the storefront's pushManager.subscribe used; required when webpush_sender is webpush (npx web-push generate-vapid-keys)."
  type        = string
  default     = ""

  validation {
    condition     = var.webpush_vapid_public_key == "" ? var.webpush_sender != "webpush" : can(regex("^[A-Za-z0-9_-]{87}$", var.webpush_vapid_public_key))
    error_message = "webpush_vapid_public_key is required when webpush_sender is webpush: 87 base64url characters (npx web-push generate-vapid-keys)."
  }
}

variable "webpush_subject" {
  description = "RESTOCK_WEBPUSH_SUBJECT: who push services contact about this sender, a mailto: address or an https: URL (the VAPID JWT's sub); required when webpush_sender is webpush."
  type        = string
  default     = ""

  validation {
    condition     = var.webpush_subject == "" ? var.webpush_sender != "webpush" : can(regex("^(mailto:[^\\s]+@[^\\s]+|https://[^\\s]+)$", var.webpush_subject))
    error_message = "webpush_subject is required when webpush_sender is webpush: a mailto: address or an https: URL."
  }
}

variable "webpush_ttl_seconds" {
  description = "RESTOCK_WEBPUSH_TTL_SECONDS: how long a push service keeps a message for an offline browser."
  type        = number
  default     = 86400

  validation {
    condition     = var.webpush_ttl_seconds >= 0 && var.webpush_ttl_seconds <= 2419200 && floor(var.webpush_ttl_seconds) == var.webpush_ttl_seconds
    error_message = "webpush_ttl_seconds must be a whole number from 0 to 2419200 (four weeks)."
  }
}

variable "webpush_urgency" {
  description = "RESTOCK_WEBPUSH_URGENCY: very-low, low, normal or high (RFC 8030 Urgency)."
  type        = string
  default     = "normal"

  validation {
    condition     = contains(["very-low", "low", "normal", "high"], var.webpush_urgency)
    error_message = "webpush_urgency must be very-low, low, normal or high."
  }
}

variable "webpush_concurrency" {
  description = "RESTOCK_WEBPUSH_CONCURRENCY: web push requests in flight per notifier call."
  type        = number
  default     = 20

  validation {
    condition     = var.webpush_concurrency >= 1 && var.webpush_concurrency <= 500 && floor(var.webpush_concurrency) == var.webpush_concurrency
    error_message = "webpush_concurrency must be a whole number from 1 to 500."
  }
}

variable "webpush_vapid_private_key" {
  description = "The VAPID private key (RESTOCK_WEBPUSH_VAPID_PRIVATE_KEY, 43 base64url characters), required when webpush_sender is webpush. Ephemeral: written to Secret Manager through a write-only argument, never stored in the plan or the state (TF_VAR_webpush_vapid_private_key). Only sent when webpush_vapid_private_key_version changes."
  type        = string
  default     = null
  ephemeral   = true
  sensitive   = true

  validation {
    condition     = var.webpush_vapid_private_key == null ? var.webpush_sender != "webpush" : can(regex("^[A-Za-z0-9_-]{43}$", var.webpush_vapid_private_key))
    error_message = "webpush_vapid_private_key is required when webpush_sender is webpush: 43 base64url characters (export TF_VAR_webpush_vapid_private_key)."
  }
}

variable "webpush_vapid_private_key_version" {
  description = "Version number of webpush_vapid_private_key: raise it by one to write a new key (with a new public key: every browser must subscribe again); Terraform sends it only when this changes."
  type        = number
  default     = 1

  validation {
    condition     = var.webpush_vapid_private_key_version >= 1 && floor(var.webpush_vapid_private_key_version) == var.webpush_vapid_private_key_version
    error_message = "webpush_vapid_private_key_version must be a whole number, 1 or more."
  }
}

variable "webpush_vapid_private_key_secret_id" {
  description = "Secret Manager secret (created here, its version written from webpush_vapid_private_key) whose latest version becomes RESTOCK_WEBPUSH_VAPID_PRIVATE_KEY of deliverRestockBatch when webpush_sender is webpush. name_prefix is put before it."
  type        = string
  default     = "restock-webpush-vapid-private-key"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,249}$", var.webpush_vapid_private_key_secret_id))
    error_message = "webpush_vapid_private_key_secret_id must be letters, digits, _ and -, at most 249 (255 with name_prefix)."
  }
}

variable "smtp_host" {
  description = "RESTOCK_SMTP_HOST: the SMTP submission server of your mail provider (required when email_sender is smtp)."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[A-Za-z0-9.-]*$", var.smtp_host))
    error_message = "smtp_host must be a host name (letters, digits, dots and hyphens)."
  }
}

variable "smtp_port" {
  description = "RESTOCK_SMTP_PORT: 587 (STARTTLS, required) or 465 with smtp_secure."
  type        = number
  default     = 587

  validation {
    condition     = var.smtp_port >= 1 && var.smtp_port <= 65535 && floor(var.smtp_port) == var.smtp_port
    error_message = "smtp_port must be a whole number from 1 to 65535."
  }
}

variable "smtp_secure" {
  description = "RESTOCK_SMTP_SECURE: TLS from the first byte (port 465) instead of STARTTLS."
  type        = bool
  default     = false
}

variable "smtp_user" {
  description = "RESTOCK_SMTP_USER: SMTP AUTH user. When set, delivery also reads the password from smtp_password_secret_id."
  type        = string
  default     = ""

  validation {
    condition     = length(var.smtp_user) <= 256
    error_message = "smtp_user must be at most 256 characters."
  }
}

variable "smtp_max_connections" {
  description = "RESTOCK_SMTP_MAX_CONNECTIONS: pooled SMTP connections per delivery instance (mind your provider's connection limit times deliverRestockBatch's max_instances in function_config)."
  type        = number
  default     = 5

  validation {
    condition     = var.smtp_max_connections >= 1 && var.smtp_max_connections <= 100 && floor(var.smtp_max_connections) == var.smtp_max_connections
    error_message = "smtp_max_connections must be a whole number from 1 to 100."
  }
}

variable "smtp_timeout_ms" {
  description = "RESTOCK_SMTP_TIMEOUT_MS: connection and per-command timeout of the SMTP client."
  type        = number
  default     = 10000

  validation {
    condition     = var.smtp_timeout_ms >= 1 && floor(var.smtp_timeout_ms) == var.smtp_timeout_ms
    error_message = "smtp_timeout_ms must be a positive whole number."
  }
}

variable "email_from" {
  description = "RESTOCK_EMAIL_FROM: From header of restock emails, e.g. Shop <restock@mail.example.com> (required when email_sender is smtp)."
  type        = string
  default     = ""

  validation {
    condition     = var.email_from == "" || can(regex("@", var.email_from))
    error_message = "email_from must be empty or contain an address."
  }
}

variable "dkim_domain" {
  description = "RESTOCK_DKIM_DOMAIN: DKIM signing domain (d=). When set, delivery signs every email with the key in dkim_private_key_secret_id."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[A-Za-z0-9.-]*$", var.dkim_domain))
    error_message = "dkim_domain must be a domain name."
  }
}

variable "dkim_selector" {
  description = "RESTOCK_DKIM_SELECTOR: DKIM selector (s=), the DNS name <selector>._domainkey.<dkim_domain> publishes the public key."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]*$", var.dkim_selector))
    error_message = "dkim_selector must be letters, digits, dots, _ and -."
  }
}

variable "smtp_password_secret_id" {
  description = "Secret Manager secret (created here, its version written from smtp_password) whose latest version becomes RESTOCK_SMTP_PASSWORD of deliverRestockBatch when smtp_user is set. name_prefix is put before it."
  type        = string
  default     = "restock-smtp-password"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,249}$", var.smtp_password_secret_id))
    error_message = "smtp_password_secret_id must be letters, digits, _ and -, at most 249 (255 with name_prefix)."
  }
}

variable "dkim_private_key_secret_id" {
  description = "Secret Manager secret (created here, its version written from dkim_private_key) whose latest version becomes RESTOCK_DKIM_PRIVATE_KEY of deliverRestockBatch when dkim_domain is set. name_prefix is put before it."
  type        = string
  default     = "restock-dkim-private-key"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,249}$", var.dkim_private_key_secret_id))
    error_message = "dkim_private_key_secret_id must be letters, digits, _ and -, at most 249 (255 with name_prefix)."
  }
}

variable "unsubscribe_key_secret_id" {
  description = "Secret Manager secret (created here, its version written from unsubscribe_keys) whose latest version becomes RESTOCK_UNSUBSCRIBE_SECRET of deliverRestockBatch and restockUnsubscribe when email_sender is smtp. name_prefix is put before it."
  type        = string
  default     = "restock-unsubscribe-key"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,249}$", var.unsubscribe_key_secret_id))
    error_message = "unsubscribe_key_secret_id must be letters, digits, _ and -, at most 249 (255 with name_prefix)."
  }
}

variable "fcm_project_id" {
  description = "RESTOCK_FCM_PROJECT_ID: the Firebase project of the push tokens (empty: project_id). Delivery's send role is granted there."
  type        = string
  default     = ""

  validation {
    condition     = var.fcm_project_id == "" || can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.fcm_project_id))
    error_message = "fcm_project_id must be empty or a Google Cloud project id."
  }
}

variable "fcm_concurrency" {
  description = "RESTOCK_FCM_CONCURRENCY: FCM v1 requests in flight per notifier call (the v1 API takes one message a request)."
  type        = number
  default     = 20

  validation {
    condition     = var.fcm_concurrency >= 1 && var.fcm_concurrency <= 500 && floor(var.fcm_concurrency) == var.fcm_concurrency
    error_message = "fcm_concurrency must be a whole number from 1 to 500."
  }
}

# The direct channels' secret values: written to Secret Manager like the
# notifier token (a write-only argument, never in the plan or the state), so a
# first apply with email over SMTP needs no second apply and no manual step
# (a function that reads a secret at `latest` is refused a revision while the
# secret has no version). Each is required when its feature is on, and sent
# only when its version variable changes.

variable "smtp_password" {
  description = "SMTP AUTH password (RESTOCK_SMTP_PASSWORD), required when smtp_user is set. Ephemeral: written to Secret Manager through a write-only argument, never stored in the plan or the state; give it on every plan and apply while smtp_user is set (TF_VAR_smtp_password). Only sent when smtp_password_version changes."
  type        = string
  default     = null
  ephemeral   = true
  sensitive   = true

  validation {
    condition     = var.smtp_user == "" ? true : var.smtp_password == null ? false : length(var.smtp_password) >= 1
    error_message = "smtp_password is required when smtp_user is set (export TF_VAR_smtp_password)."
  }
}

variable "smtp_password_version" {
  description = "Version number of smtp_password: raise it by one to write a new password; Terraform sends it only when this changes."
  type        = number
  default     = 1

  validation {
    condition     = var.smtp_password_version >= 1 && floor(var.smtp_password_version) == var.smtp_password_version
    error_message = "smtp_password_version must be a whole number, 1 or more."
  }
}

variable "dkim_private_key" {
  description = "PEM private key that signs every email (RESTOCK_DKIM_PRIVATE_KEY), required when dkim_domain is set. Ephemeral: written to Secret Manager through a write-only argument, never stored in the plan or the state; give it on every plan and apply while dkim_domain is set (TF_VAR_dkim_private_key=\"$(cat key.pem)\"). Only sent when dkim_private_key_version changes."
  type        = string
  default     = null
  ephemeral   = true
  sensitive   = true

  validation {
    condition     = var.dkim_domain == "" ? true : var.dkim_private_key == null ? false : can(regex("-----BEGIN [A-Z ]*PRIVATE KEY-----", var.dkim_private_key))
    error_message = "dkim_private_key is required when dkim_domain is set, as a PEM private key (export TF_VAR_dkim_private_key=\"$(cat key.pem)\")."
  }
}

variable "dkim_private_key_version" {
  description = "Version number of dkim_private_key: raise it by one to write a new key; Terraform sends it only when this changes."
  type        = number
  default     = 1

  validation {
    condition     = var.dkim_private_key_version >= 1 && floor(var.dkim_private_key_version) == var.dkim_private_key_version
    error_message = "dkim_private_key_version must be a whole number, 1 or more."
  }
}

variable "unsubscribe_keys" {
  description = "Keys of the unsubscribe links (RESTOCK_UNSUBSCRIBE_SECRET), required when email_sender is smtp or webpush_sender is webpush: comma-separated, the first signs, every one verifies, each at least 32 bytes; generate one with `openssl rand -base64 48`. Ephemeral: written to Secret Manager through a write-only argument, never stored in the plan or the state; give it on every plan and apply while email_sender is smtp (TF_VAR_unsubscribe_keys). Only sent when unsubscribe_key_version changes."
  type        = string
  default     = null
  ephemeral   = true
  sensitive   = true

  validation {
    condition     = var.unsubscribe_keys == null ? var.email_sender != "smtp" && var.webpush_sender != "webpush" : alltrue([for key in split(",", var.unsubscribe_keys) : length(key) >= 32])
    error_message = "unsubscribe_keys is required when email_sender is smtp or webpush_sender is webpush: comma-separated keys of at least 32 bytes each, none empty (openssl rand -base64 48 makes one; export TF_VAR_unsubscribe_keys)."
  }
}

variable "unsubscribe_key_version" {
  description = "Version number of unsubscribe_keys: raise it by one to write new keys (a rotation: new key first, the old one after it); Terraform sends them only when this changes."
  type        = number
  default     = 1

  validation {
    condition     = var.unsubscribe_key_version >= 1 && floor(var.unsubscribe_key_version) == var.unsubscribe_key_version
    error_message = "unsubscribe_key_version must be a whole number, 1 or more."
  }
}

variable "unsubscribe_base_url" {
  description = "Public base URL of the unsubscribe links (RESTOCK_UNSUBSCRIBE_URL), e.g. https://shop.example.com/restock-unsubscribe behind your load balancer. Required when function_config.restockUnsubscribe.ingress is ALLOW_INTERNAL_AND_GCLB (the run.app URL then answers nobody from the internet); empty: restockUnsubscribe's run.app URL."
  type        = string
  default     = ""

  validation {
    condition     = var.unsubscribe_base_url == "" ? var.function_config.restockUnsubscribe.ingress != "ALLOW_INTERNAL_AND_GCLB" || var.email_sender != "smtp" : can(regex("^https://[^\\s/]+(/[^\\s]*)?$", var.unsubscribe_base_url))
    error_message = "unsubscribe_base_url must be an https:// URL, and is required when restockUnsubscribe's ingress is ALLOW_INTERNAL_AND_GCLB with email_sender smtp (links to the run.app URL would be refused)."
  }
}

variable "unsubscribe_allow_unauthenticated" {
  description = "Grant roles/run.invoker to allUsers on restockUnsubscribe (deployed only when email_sender is smtp). false where the organisation enforces domain-restricted sharing (iam.allowedPolicyMemberDomains refuses allUsers): then disable the service's invoker IAM check by hand instead, as Google recommends under that constraint (docs/channels.md)."
  type        = bool
  default     = true
}

variable "unsubscribe_link_max_age_days" {
  description = "RESTOCK_UNSUBSCRIBE_TOKEN_MAX_AGE_DAYS: days an unsubscribe link keeps working after its email was sent (1 to 3650). A link only ever removes the subscription generation it was made for, so a long life costs little."
  type        = number
  default     = 180

  validation {
    condition     = var.unsubscribe_link_max_age_days >= 1 && var.unsubscribe_link_max_age_days <= 3650 && floor(var.unsubscribe_link_max_age_days) == var.unsubscribe_link_max_age_days
    error_message = "unsubscribe_link_max_age_days must be a whole number of days from 1 to 3650."
  }
}

variable "templates_dir" {
  description = "A directory on the machine running Terraform with the shop's message templates, <channel>/<language>/<part>.liquid (docs/channels.md): shipped in the function source under templates/ and named by RESTOCK_TEMPLATES_DIR of deliverRestockBatch. Empty: the built-in templates."
  type        = string
  default     = ""

  validation {
    condition     = var.templates_dir == "" || length(fileset(var.templates_dir, "**/*.liquid")) > 0
    error_message = "templates_dir names no directory holding .liquid files (<channel>/<language>/<part>.liquid)."
  }
}
