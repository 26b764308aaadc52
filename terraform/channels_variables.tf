# Variables of the direct channels (terraform/channels.tf): the settings of
# the smtp and fcm senders and of the public unsubscribe function. Kept apart
# from channels.tf because locals.tf reads them (test/unit/terraform evaluates
# locals.tf with every *variables.tf file).

variable "email_sender" {
  description = "RESTOCK_EMAIL_SENDER: smtp sends email directly, http through the notification service, log only logs; empty follows notifier."
  type        = string
  default     = ""

  validation {
    condition     = var.email_sender == "" || contains(["http", "log", "smtp"], var.email_sender)
    error_message = "email_sender must be empty, http, log or smtp."
  }
}

variable "push_sender" {
  description = "RESTOCK_PUSH_SENDER: fcm sends push through Firebase Cloud Messaging, http through the notification service, log only logs; empty follows notifier."
  type        = string
  default     = ""

  validation {
    condition     = var.push_sender == "" || contains(["fcm", "http", "log"], var.push_sender)
    error_message = "push_sender must be empty, fcm, http or log."
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
  description = "RESTOCK_SMTP_MAX_CONNECTIONS: pooled SMTP connections per delivery instance (mind your provider's connection limit times delivery_max_instances)."
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
  description = "Secret Manager secret (created here, value added by you) whose latest version becomes RESTOCK_SMTP_PASSWORD of deliverRestockBatch when smtp_user is set."
  type        = string
  default     = "restock-smtp-password"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.smtp_password_secret_id))
    error_message = "smtp_password_secret_id must be letters, digits, _ and -, at most 255."
  }
}

variable "dkim_private_key_secret_id" {
  description = "Secret Manager secret (created here, PEM value added by you) whose latest version becomes RESTOCK_DKIM_PRIVATE_KEY of deliverRestockBatch when dkim_domain is set."
  type        = string
  default     = "restock-dkim-private-key"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.dkim_private_key_secret_id))
    error_message = "dkim_private_key_secret_id must be letters, digits, _ and -, at most 255."
  }
}

variable "unsubscribe_key_secret_id" {
  description = "Secret Manager secret (created here, value added by you: 32+ random characters; comma-separated keys rotate, the first signs) whose latest version becomes RESTOCK_UNSUBSCRIBE_SECRET of deliverRestockBatch and restockUnsubscribe when email_sender is smtp."
  type        = string
  default     = "restock-unsubscribe-key"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.unsubscribe_key_secret_id))
    error_message = "unsubscribe_key_secret_id must be letters, digits, _ and -, at most 255."
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

variable "unsubscribe_memory" {
  description = "Memory of restockUnsubscribe."
  type        = string
  default     = "256Mi"

  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi|M|G)$", var.unsubscribe_memory))
    error_message = "unsubscribe_memory must look like 256Mi, 512Mi, 1Gi or 2G."
  }
}

variable "unsubscribe_timeout_seconds" {
  description = "Request timeout of restockUnsubscribe (one delete: keep it short)."
  type        = number
  default     = 30

  validation {
    condition     = var.unsubscribe_timeout_seconds >= 1 && var.unsubscribe_timeout_seconds <= 3600 && floor(var.unsubscribe_timeout_seconds) == var.unsubscribe_timeout_seconds
    error_message = "unsubscribe_timeout_seconds must be a whole number from 1 to 3600."
  }
}

variable "unsubscribe_max_instances" {
  description = "Most restockUnsubscribe instances at once (caps what a flood of forged links can cost)."
  type        = number
  default     = 10

  validation {
    condition     = var.unsubscribe_max_instances >= 1 && var.unsubscribe_max_instances <= 1000 && floor(var.unsubscribe_max_instances) == var.unsubscribe_max_instances
    error_message = "unsubscribe_max_instances must be a whole number from 1 to 1000."
  }
}

variable "unsubscribe_ingress" {
  description = "Ingress of restockUnsubscribe. ALLOW_ALL: mailbox providers must reach it from the internet; ALLOW_INTERNAL_AND_GCLB behind your own load balancer."
  type        = string
  default     = "ALLOW_ALL"

  validation {
    condition     = contains(["ALLOW_ALL", "ALLOW_INTERNAL_AND_GCLB"], var.unsubscribe_ingress)
    error_message = "unsubscribe_ingress must be ALLOW_ALL or ALLOW_INTERNAL_AND_GCLB (ALLOW_INTERNAL_ONLY would break every unsubscribe link)."
  }
}
