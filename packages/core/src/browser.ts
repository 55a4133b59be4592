/**
 * What a browser may import from the engine: the event contract, error codes, image, file and think-level rules, the
 * token estimate and answer room of the context window (so a page can say when attached files will not fit), and the
 * reading of files of several conversations (this app's, and other apps' exports). The main
 * entry also holds the providers and tools, which import Node's http, worker_threads and zlib: a bundler building the
 * web app from it has to replace those with empty modules (Vite warns for each) and rely on tree-shaking to drop them.
 */
export * from "./events.js";
export * from "./errors.js";
export {
  imageMimeTypes,
  imageMimeTypeSchema,
  imageAttachmentSchema,
  attachmentSchema,
  splitAttachments,
  maxImagesPerMessage,
  defaultMaxImageBytes,
  checkImages,
  sniffImageType,
  base64DecodedBytes,
  formatBytes,
  type ImageMimeType,
  type ImageAttachment,
  type Attachment,
  type ImageLimits,
} from "./attachments.js";
export {
  fileAttachmentSchema,
  maxFilesPerMessage,
  defaultMaxFileChars,
  maxFileNameChars,
  fileNameControlCharacter,
  checkFiles,
  userMessageText,
  type FileAttachment,
  type FileLimits,
} from "./files.js";
export { estimateTextTokens } from "./tokens.js";
export { embedsOnly } from "./embedding-models.js";
export { maxInstructionsChars } from "./instructions.js";
export { defaultSampling, isDefaultSampling, samplingLimits, samplingOptions, samplingSchema, type Sampling, type SamplingDefaults } from "./sampling.js";
export { titleMatches, titleMatcher, matchRanges, searchWords, type TextRange } from "./title-search.js";
export { answerReserve, defaultMaxContextTokens } from "./context-window.js";
export { formatFileSize, notAnExportMessage, tooLargeToImportMessage, utf8Bytes } from "./file-size.js";
export { exportBundleLines, type ExportBundleLine } from "./export-bundle.js";
export {
  readForeignExport,
  readForeignExportItems,
  type ForeignExport,
  type ForeignExportStream,
  type ForeignConversation,
  type ForeignSource,
  type ForeignFiles,
  type ForeignFile,
  type ForeignReadOptions,
} from "./foreign-export/read.js";
export { importTextOf, utf8Pieces, afterTaken, type ImportText } from "./foreign-export/text-source.js";
export { jsonArrayItems, jsonArrayValues, JsonArrayError, type JsonArrayProblem, type JsonArrayOptions } from "./foreign-export/json-array-items.js";
export type { ForeignConversationDocument, ForeignChatMessage } from "./foreign-export/document.js";
export { reasoningMarkers, splitLeadingReasoning, splitUnopenedReasoning } from "./think-tags.js";
export { isZip, conversationsJsonPiecesFromZip, ZipReadError, NoConversationsJsonError } from "./foreign-export/zip.js";
export { ZipArchive, type ZipEntry } from "./foreign-export/zip-archive.js";
export { openExportArchive, type ExportArchive } from "./foreign-export/export-archive.js";
export type { ArchiveFileLimits } from "./foreign-export/chatgpt-files.js";
export { thinkLevels, thinkLevelSchema, thinkSettingSchema, isThinkLevel, takesThinkLevels, type ThinkLevel, type ThinkSetting } from "./think.js";
