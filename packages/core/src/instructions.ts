/**
 * Longest custom instructions (a user's, or a conversation's own) in characters: they go into every request's system
 * message, so a page of text, not a document. The API refuses longer ones, exports hold them to it, an import of
 * another app's longer system prompt leaves it out, and the web app's boxes stop there.
 */
export const maxInstructionsChars = 4000;
