/** Restock detection: the rule, the product stock state it reads and writes, and whether a restock may still tell anyone. */
export { isRestock, isAvailable, decideStockUpdate, type StockDecision } from './rule.ts';
export { restockStanding, RESTOCK_STOPS, type RestockStanding, type RestockStop } from './standing.ts';
