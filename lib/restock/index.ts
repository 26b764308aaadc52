/** Restock detection: the rule, and the product stock state it reads and writes. */
export { isRestock, decideStockUpdate, type StockDecision } from './rule.ts';
