export { startSimulator, simulatedOllamaVersion, simulatorHeader } from "./server.js";
export { builtinScenarios, benchToken, requestedTokens, cutAnswerScenario } from "./scenarios.js";
export { defaultModels, faultModels, capabilityModels } from "./models.js";
export { describeImage, colourName, type ImageInfo, type ImageKind, type DominantColour } from "./image-info.js";
export { respondDemo, wordTokens, cityZones } from "./demo-model.js";
export { parseFileBlocks, type FileBlock, type FilesInMessage } from "./demo-files.js";
export type {
  ControlledStream,
  RecordedRequest,
  Scenario,
  SimChatRequest,
  SimChunk,
  SimContext,
  SimHttpError,
  SimModel,
  SimToolCall,
  Simulator,
  SimulatorOptions,
} from "./types.js";
export { demoTitle, isTitleRequest } from "./demo-title.js";
export { encodePng, solidPng, jpegHeader, type PngOptions } from "./test-images.js";
