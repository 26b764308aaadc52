/** Restock detection: the rule, and the product stock state it reads and writes. */
export { isRestock, isAvailable, decideStockUpdate, type StockDecision } from './rule.ts';
