# Double opt-in (issue 32, docs/privacy.md).

variable "confirmation_ttl_hours" {
  description = "RESTOCK_CONFIRMATION_TTL_HOURS: hours a pending subscription waits for its confirmation, and its link works (more than 0, at most 720)."
  type        = number
  default     = 72

  validation {
    condition     = var.confirmation_ttl_hours > 0 && var.confirmation_ttl_hours <= 720
    error_message = "confirmation_ttl_hours must be more than 0 and at most 720."
  }
}

variable "confirmations_per_address" {
  description = "RESTOCK_CONFIRMATIONS_PER_ADDRESS: confirmation emails one address may receive per UTC day, whoever asks (1 to 100)."
  type        = number
  default     = 3

  validation {
    condition     = var.confirmations_per_address >= 1 && var.confirmations_per_address <= 100 && floor(var.confirmations_per_address) == var.confirmations_per_address
    error_message = "confirmations_per_address must be a whole number from 1 to 100."
  }
}

variable "double_opt_in" {
  description = "RESTOCK_DOUBLE_OPT_IN of restockSubscriptions: email (a subscription by an address the storefront does not vouch for waits, pending, until the shopper follows the link of a confirmation email sent over SMTP) or none. email needs email_sender = smtp: the confirmations are sent by restockSubscriptions itself, with delivery's SMTP settings and secrets and the unsubscribe keys that seal the links."
  type        = string
  default     = "email"
  nullable    = false

  # The values Terraform wires: lib/config.ts confirms every channel by its own sender, but restockSubscriptions gets no FCM, web push or notification service settings here yet (docs/privacy.md).
  validation {
    condition     = contains(["email", "none"], var.double_opt_in)
    error_message = "double_opt_in must be email or none (only email addresses can be confirmed)."
  }

  # The function refuses to start in this case too (lib/config.ts deploymentProblems): refuse the plan first.
  validation {
    condition     = var.double_opt_in == "none" || var.email_sender == "smtp"
    error_message = "double_opt_in = \"email\" emails confirmation links over SMTP, which needs email_sender = \"smtp\" (with smtp_host, email_from and unsubscribe_keys). Set email_sender = \"smtp\", or double_opt_in = \"none\" while the notification service sends email (then every address a storefront sends is notified without its owner's confirmation: docs/privacy.md)."
  }
}

variable "pseudonym_key" {
  description = "Key of the keyed hash (HMAC-SHA256) standing for user ids in logs, erasure receipts and erased ledger entries, and for addresses in the confirmation limit (RESTOCK_PSEUDONYM_KEY), at least 32 bytes; generate one with `openssl rand -base64 48`. Ephemeral: written to Secret Manager through a write-only argument, never stored in the plan or the state; give it on every plan and apply (TF_VAR_pseudonym_key). Only sent when pseudonym_key_version changes."
  type        = string
  ephemeral   = true
  sensitive   = true
  nullable    = false

  # lib/config.ts reads a comma-separated list and uses its first key: one key, no comma.
  validation {
    condition     = length(var.pseudonym_key) >= 32 && !strcontains(var.pseudonym_key, ",")
    error_message = "pseudonym_key must be one key of at least 32 bytes, without a comma (openssl rand -base64 48 makes one; export TF_VAR_pseudonym_key)."
  }
}

variable "pseudonym_key_version" {
  description = "Version number of pseudonym_key: raise it by one to write a new key. A new key changes every user id's reference from then on (logs before and after no longer match, and the day's confirmation counts start again)."
  type        = number
  default     = 1

  validation {
    condition     = var.pseudonym_key_version >= 1 && floor(var.pseudonym_key_version) == var.pseudonym_key_version
    error_message = "pseudonym_key_version must be a whole number, 1 or more."
  }
}

variable "pseudonym_key_secret_id" {
  description = "Secret Manager secret (created here, its version written from pseudonym_key) whose latest version becomes RESTOCK_PSEUDONYM_KEY of the functions that refer to shoppers by a keyed hash (restockSubscriptions, restockUnsubscribe, applyShopperActions). name_prefix is put before it."
  type        = string
  default     = "restock-pseudonym-key"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,249}$", var.pseudonym_key_secret_id))
    error_message = "pseudonym_key_secret_id must be letters, digits, _ and -, at most 249 (255 with name_prefix)."
  }
}
