import { z } from "zod";
import { attachmentSchema, checkFiles, checkImages, checkModelSupport, splitAttachments, thinkLevelSchema, type Attachment, type ChatModel, type ThinkSetting } from "@streamchat/core";
import type { Config } from "./config.js";
import { AppError } from "./errors.js";

/**
 * `attachments` of chat.send, chat.complete, chat.edit and the REST endpoints (DESIGN §9): images and text files.
 * The shape only: count, size and content are checked by `checkAttachments`, whose messages name the limits. An
 * array longer than any body could carry is refused by the body limit first.
 */
export const attachmentsSchema = z.array(attachmentSchema).optional();

/** `think`: on/off, or a level ("low" | "medium" | "high") passed to Ollama unchanged (core's ThinkSetting). */
export const thinkSchema = z
  .union([z.boolean(), thinkLevelSchema], { error: 'must be a boolean or one of "low", "medium", "high"' })
  .optional() satisfies z.ZodType<ThinkSetting | undefined>;

export interface AttachmentCheck {
  model: ChatModel;
  /** The model the run would use (the request's, else the provider's default). */
  modelName: string;
  config: Pick<Config, "maxImageBytes" | "maxFileChars">;
}

/**
 * Refuses a request's attachments before anything is stored or started: more than 4 images, one not base64, over
 * MAX_IMAGE_BYTES decoded, bytes that are no PNG/JPEG/WebP/GIF or not the declared type; more than 8 files, one
 * without a name, empty, over MAX_FILE_CHARS or binary (bad_request); or images for a model the server says has no
 * `vision` (model_unsupported). Unknown capabilities pass: the run loop checks again. Every model reads files, so
 * without images nothing is asked of the model server.
 */
export async function checkAttachments(attachments: readonly Attachment[] | undefined, check: AttachmentCheck, signal?: AbortSignal): Promise<void> {
  if (!attachments || attachments.length === 0) return;
  const { images, files } = splitAttachments(attachments);
  const bad = checkImages(images, { maxBytes: check.config.maxImageBytes }) ?? checkFiles(files, { maxChars: check.config.maxFileChars });
  if (bad) throw new AppError(bad.code, bad.message);
  if (images.length === 0) return;
  const unsupported = await checkModelSupport(check.model, check.modelName, { images: images.length }, signal ? { signal } : {});
  if (unsupported) throw new AppError(unsupported.code, unsupported.message);
}
