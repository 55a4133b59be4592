/**
 * The readers of other apps' exports and the ZIP reader, loaded only when a file is imported (a dynamic import of
 * this module): most sessions never import, and they are the larger part of the import's code.
 */
export { JsonArrayError, openExportArchive, readForeignExport, readForeignExportItems, ZipReadError } from "@streamchat/core/browser";
