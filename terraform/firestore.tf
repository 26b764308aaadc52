# The pipeline's own Firestore database (never the project's (default), which
# may hold the adopter's own `products`), its point-in-time recovery and daily
# backups, the indexes the queries need, the TTLs that expire the ledger and
# rejected events, and the index exemptions that keep bulk writes fast.

resource "google_firestore_database" "pipeline" {
  project     = var.project_id
  name        = local.names.firestore_database
  location_id = var.firestore_location
  type        = "FIRESTORE_NATIVE"

  # Every subscription lives here: 7 days of point-in-time recovery, and never
  # deleted with the stack.
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  deletion_policy                   = "ABANDON"

  depends_on = [google_project_service.enabled]
}

# A daily backup kept firestore_backup_retention_days, for what PITR's 7 days
# cannot reach back to.
resource "google_firestore_backup_schedule" "daily" {
  project   = var.project_id
  database  = google_firestore_database.pipeline.name
  retention = "${var.firestore_backup_retention_days * 86400}s"

  daily_recurrence {}
}

locals {
  firestore_database = google_firestore_database.pipeline.name
}

# Delivery state counts (`restock status`), redrive paging, and the samples
# `restock status` picks the oldest pending delivery and the last errors from:
# deliveries where shard in [30 shards] and eventKey == X and state == S, by
# document id (lib/delivery/ledger.ts). Led by the entry's shard (the first
# digits of its hashed id, 256 of them) rather than by eventKey: an index led by
# eventKey puts every entry of an event under one prefix that is new for every
# event, and Firestore ramps a new key range from 500 operations/s (500/50/5),
# so a million shoppers' claims and records took 25 minutes there at the least;
# led by the shard, an event spreads over 256 prefixes (docs/performance.md).
# No index puts a timestamp after eventKey (one event's million writes would
# all land in its last range).
resource "google_firestore_index" "deliveries_by_shard_event_and_state" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "shard"
    order      = "ASCENDING"
  }
  fields {
    field_path = "eventKey"
    order      = "ASCENDING"
  }
  fields {
    field_path = "state"
    order      = "ASCENDING"
  }
}

# The sent notifications of one wave (`restock status`): deliveries where
# shard in [30 shards] and eventKey == X and wave == W and state == sent. The
# collection-wide exemption below turns the single-field indexes off that
# Firestore would otherwise merge for it, so it gets a composite of its own
# (cheaper too: one entry per ledger write instead of two per field), led by
# the shard like the one above.
resource "google_firestore_index" "deliveries_by_shard_event_wave_and_state" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "shard"
    order      = "ASCENDING"
  }
  fields {
    field_path = "eventKey"
    order      = "ASCENDING"
  }
  fields {
    field_path = "wave"
    order      = "ASCENDING"
  }
  fields {
    field_path = "state"
    order      = "ASCENDING"
  }
}

# Held sends skipped when their window opened (`restock status`, docs/send-windows.md): deliveries where
# shard in [30 shards] and eventKey == X and skipped == sold-out | superseded.
resource "google_firestore_index" "deliveries_by_shard_event_and_skipped" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "shard"
    order      = "ASCENDING"
  }
  fields {
    field_path = "eventKey"
    order      = "ASCENDING"
  }
  fields {
    field_path = "skipped"
    order      = "ASCENDING"
  }
}

# `restock trace`: deliveries where userId == X, newest first.
resource "google_firestore_index" "deliveries_by_user_newest_first" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "userId"
    order      = "ASCENDING"
  }
  fields {
    field_path = "createdAtMs"
    order      = "DESCENDING"
  }
}

# `restock trace --product`: deliveries where userId == X and productId == Y, newest first.
resource "google_firestore_index" "deliveries_by_user_product_newest_first" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "userId"
    order      = "ASCENDING"
  }
  fields {
    field_path = "productId"
    order      = "ASCENDING"
  }
  fields {
    field_path = "createdAtMs"
    order      = "DESCENDING"
  }
}

# `restock trace --product`: the fan-outs of a product, newest first.
resource "google_firestore_index" "fanouts_by_product_newest_first" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "fanouts"
  query_scope = "COLLECTION"

  fields {
    field_path = "productId"
    order      = "ASCENDING"
  }
  fields {
    field_path = "startedAtMs"
    order      = "DESCENDING"
  }
}

# A shopper's documents across products, for the trace, the API's list, export
# and erasure (lib/shoppers): the collection groups restockSubscriptions and
# pendingSubscriptions (requests waiting for their double opt-in confirmation)
# where userId == X. Setting index_config replaces the automatic single-field
# indexes, so the collection-scope ones are kept too.
locals {
  shopper_lookup_fields = {
    restockSubscriptions = ["userId"]
    pendingSubscriptions = ["userId"]
  }
}

resource "google_firestore_field" "shopper_lookup" {
  for_each = merge([
    for collection, fields in local.shopper_lookup_fields : { for field in fields : "${collection}.${field}" => { collection = collection, field = field } }
  ]...)

  project    = var.project_id
  database   = local.firestore_database
  collection = each.value.collection
  field      = each.value.field

  index_config {
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION"
    }
    indexes {
      order       = "DESCENDING"
      query_scope = "COLLECTION"
    }
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION_GROUP"
    }
  }
}

moved {
  from = google_firestore_field.subscriptions_user_id
  to   = google_firestore_field.shopper_lookup["restockSubscriptions.userId"]
}

moved {
  from = google_firestore_field.pending_subscriptions_user_id
  to   = google_firestore_field.shopper_lookup["pendingSubscriptions.userId"]
}

# A request never confirmed is deleted RESTOCK_CONFIRMATION_TTL_HOURS after it was
# made (expireAt is set by the subscription API; reads ignore it from then on,
# TTL deletes it within about a day).
resource "google_firestore_field" "pending_subscriptions_expire_at" {
  project    = var.project_id
  database   = local.firestore_database
  collection = "pendingSubscriptions"
  field      = "expireAt"

  ttl_config {}
}

# The per-address confirmation limit's slots (lib/consent/limit.ts) expire at the
# end of their UTC day; read only by id.
resource "google_firestore_field" "confirmation_slots_expire_at" {
  project    = var.project_id
  database   = local.firestore_database
  collection = "confirmationSlots"
  field      = "expireAt"

  ttl_config {}
}

# Fields queried only across a collection group, so they keep only that index:
# - dead-address cleanup (lib/delivery/dead-addresses.ts): restockSubscriptions
#   where channels.<channel> in [up to 30 addresses], for each channel whose
#   dead addresses are looked up (lib/channels.ts DEAD_ADDRESS_CHANNELS;
#   test/unit/terraform/channels.test.ts compares): an unregistered push token,
#   a mailbox a notification service says no longer exists, a browser
#   subscription its push service answers 404 or 410 for are removed everywhere;
#   nothing queries an address within one product;
# - erasure (lib/shoppers/bookkeeping.ts): the key ranges (fanouts/*/ranges)
#   whose bounds or cursor are the shopper's id; otherwise read only by id.
locals {
  group_lookup_fields = {
    restockSubscriptions = ["channels.email", "channels.push", "channels.webpush"]
    ranges               = ["cursor", "after", "until"]
  }
}

resource "google_firestore_field" "group_lookup" {
  for_each = merge([
    for collection, fields in local.group_lookup_fields : { for field in fields : "${collection}.${field}" => { collection = collection, field = field } }
  ]...)

  project    = var.project_id
  database   = local.firestore_database
  collection = each.value.collection
  field      = each.value.field

  index_config {
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION_GROUP"
    }
  }
}

moved {
  from = google_firestore_field.subscriptions_push_token
  to   = google_firestore_field.group_lookup["restockSubscriptions.channels.push"]
}

moved {
  from = google_firestore_field.subscriptions_email_address
  to   = google_firestore_field.group_lookup["restockSubscriptions.channels.email"]
}

# A shopper's record (lib/subscriptions/firestore-store.ts) is deleted by the API
# when it lists nothing, and otherwise SHOPPER_RECORD_TTL_DAYS (90) after the
# shopper's last sign-up or change (a shopper whose subscriptions all went by
# delivery): expireAt is set by every write of the API.
resource "google_firestore_field" "shoppers_expire_at" {
  project    = var.project_id
  database   = local.firestore_database
  collection = "shoppers"
  field      = "expireAt"

  ttl_config {}
}

# shoppers/{userId}.productIds is read by id, never queried: its automatic
# array-contains index would only cost a write per product subscribed.
resource "google_firestore_field" "shoppers_product_ids" {
  project    = var.project_id
  database   = local.firestore_database
  collection = "shoppers"
  field      = "productIds"

  index_config {}
}

# Chunk receipts (fanouts/{eventKey}/chunks/{chunkTaskId}) expire with the
# ledger entries they account for (expireAt is set by the delivery code, from
# RESTOCK_LEDGER_TTL_DAYS). "chunks" names the collection group: Terraform's
# field resource applies to every collection of that id.
resource "google_firestore_field" "chunk_receipts_expire_at" {
  project    = var.project_id
  database   = local.firestore_database
  collection = "chunks"
  field      = "expireAt"

  ttl_config {}

  index_config {}
}

# Ledger entries expire RESTOCK_LEDGER_TTL_DAYS after they are written
# (expireAt is set by the delivery code). The field is not queried, and an
# index on an ever-increasing timestamp only creates write hot-spots, so its
# single-field indexes are turned off.
resource "google_firestore_field" "deliveries_expire_at" {
  project    = var.project_id
  database   = local.firestore_database
  collection = "deliveries"
  field      = "expireAt"

  ttl_config {}

  index_config {}
}

# The funnel of a restock (`restock status`, cli/queries/funnel.ts): sent
# notifications per channel, deliveries where shard in [30 shards] and
# eventKey == X and channel == C and state == sent; led by the shard like the
# ledger's other event indexes (the collection-wide exemption turns off the
# single-field indexes Firestore would otherwise merge).
resource "google_firestore_index" "deliveries_by_shard_event_channel_and_state" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "shard"
    order      = "ASCENDING"
  }
  fields {
    field_path = "eventKey"
    order      = "ASCENDING"
  }
  fields {
    field_path = "channel"
    order      = "ASCENDING"
  }
  fields {
    field_path = "state"
    order      = "ASCENDING"
  }
}

# The currencies a restock's orders used (the funnel's revenue per currency):
# conversions where eventKey == X order by currency, one document at a time.
resource "google_firestore_index" "conversions_by_event_and_currency" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "conversions"
  query_scope = "COLLECTION"

  fields {
    field_path = "eventKey"
    order      = "ASCENDING"
  }
  fields {
    field_path = "currency"
    order      = "ASCENDING"
  }
}

# Clicks and orders are personal data kept as long as the ledger they are
# counted against (RESTOCK_LEDGER_TTL_DAYS; expireAt is set when each is
# recorded, lib/clicks and lib/conversions; docs/privacy.md). Never queried.
resource "google_firestore_field" "clicks_expire_at" {
  project    = var.project_id
  database   = local.firestore_database
  collection = "clicks"
  field      = "expireAt"

  ttl_config {}

  index_config {}
}

resource "google_firestore_field" "conversions_expire_at" {
  project    = var.project_id
  database   = local.firestore_database
  collection = "conversions"
  field      = "expireAt"

  ttl_config {}

  index_config {}
}

# Rejected events expire like the ledger (expireAt is set by the fan-out code):
# they may hold whatever a malformed message carried, so they are not kept forever.
resource "google_firestore_field" "rejected_events_expire_at" {
  project    = var.project_id
  database   = local.firestore_database
  collection = "rejectedEvents"
  field      = "expireAt"

  ttl_config {}

  index_config {}
}

# Fields written at a high rate with steadily increasing values (timestamps)
# keep no single-field index: Firestore caps a collection with such an indexed
# field at about 500 writes/s (the index's last range takes every write). None
# is queried on its own, and none follows eventKey in a composite index.
# Another bulk-written collection adds its fields here.
locals {
  unindexed_fields = {
    # Covered by the collection-wide exemption below, and kept here by name so
    # that removing that exemption can never re-index a timestamp.
    deliveries     = ["createdAtMs", "updatedAtMs", "leaseExpiresAtMs", "sentAtMs", "heldUntilMs"]
    fanouts        = ["startedAtMs", "updatedAtMs", "leaseExpiresAtMs", "publishTimeMs", "firstTaskAtMs", "completedAtMs"]
    rejectedEvents = ["receivedAtMs"]
    # Counted by generation only; the recipient count is read per document.
    chunks = ["recipients"]
    # Key ranges (fanouts/{eventKey}/ranges): up to 16 per fan-out, each checkpointed about once a
    # second — far from the cap, but read only by id, so their indexes would be cost without use.
    ranges = ["startedAtMs", "updatedAtMs", "leaseExpiresAtMs", "firstTaskAtMs", "completedAtMs"]
  }
}

resource "google_firestore_field" "unindexed" {
  for_each = merge([
    for collection, fields in local.unindexed_fields : { for field in fields : "${collection}.${field}" => { collection = collection, field = field } }
  ]...)

  project    = var.project_id
  database   = local.firestore_database
  collection = each.value.collection
  field      = each.value.field

  index_config {}
}

# The ledger takes one document per notification, and no query reads one of its
# fields alone (dedupKey, attempts, lastError, channel, productId, userId...):
# every query of `deliveries` is served by a composite index above. A
# collection-level exemption (field path "*", cloud.google.com/firestore/docs/concepts/index-overview,
# "Single-field index exemptions") turns off the automatic ascending,
# descending and array indexes of every field, which would otherwise be written
# with every ledger entry and never read (issue 30 item 11).
# test/unit/terraform/indexes.test.ts checks every query still has its index.
resource "google_firestore_field" "deliveries_all_fields" {
  project    = var.project_id
  database   = local.firestore_database
  collection = "deliveries"
  field      = "*"

  index_config {}
}
