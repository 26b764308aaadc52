# What a restock sold (issue 34, docs/funnel.md).

variable "attribution_window_days" {
  description = "RESTOCK_ATTRIBUTION_WINDOW_DAYS: an order is credited to the latest notification of its product to its shopper sent this many days before it (1 to 365, at most ledger_ttl_days: the notifications it looks for live that long)."
  type        = number
  default     = 7

  validation {
    condition     = var.attribution_window_days >= 1 && var.attribution_window_days <= 365 && floor(var.attribution_window_days) == var.attribution_window_days
    error_message = "attribution_window_days must be a whole number of days from 1 to 365."
  }
}

# Tracked links (docs/funnel.md): delivery makes them and the public restockUnsubscribe serves them, so one
# switch sets both; the link's life, the prefetch window and the UTM source are the public function's.

variable "click_tracking" {
  description = "RESTOCK_CLICK_TRACKING: every message's product link goes through the public function's /v1/c/{token}, which counts the shopper's click and redirects to the product; false links the product URL directly (no clicks, no direct attribution)."
  type        = bool
  default     = true
}

variable "click_link_max_age_days" {
  description = "RESTOCK_CLICK_TOKEN_MAX_AGE_DAYS: days a tracked product link keeps working after its message was sent (1 to 3650); an older one shows a page saying so, never a redirect."
  type        = number
  default     = 90

  validation {
    condition     = var.click_link_max_age_days >= 1 && var.click_link_max_age_days <= 3650 && floor(var.click_link_max_age_days) == var.click_link_max_age_days
    error_message = "click_link_max_age_days must be a whole number of days from 1 to 3650."
  }
}

variable "click_prefetch_seconds" {
  description = "RESTOCK_CLICK_PREFETCH_SECONDS: a GET of a tracked link this soon after its message was sent is a mail gateway scanning it, not a shopper: redirected, never counted (0 to 3600)."
  type        = number
  default     = 5

  validation {
    condition     = var.click_prefetch_seconds >= 0 && var.click_prefetch_seconds <= 3600 && floor(var.click_prefetch_seconds) == var.click_prefetch_seconds
    error_message = "click_prefetch_seconds must be a whole number of seconds from 0 to 3600."
  }
}

variable "click_utm_source" {
  description = "RESTOCK_CLICK_UTM_SOURCE: utm_source a followed link adds to the product URL, with utm_medium (the channel) and utm_campaign (the event key); none adds no UTM parameters."
  type        = string
  default     = "restock"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.~-]{1,64}$", var.click_utm_source))
    error_message = "click_utm_source must be 1 to 64 letters, digits, '.', '_', '~' or '-'."
  }
}
