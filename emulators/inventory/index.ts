/** The inventory service stand-in (see server.ts). */
export { startInventory, type InventoryOptions, type InventoryServer } from './server.ts';
