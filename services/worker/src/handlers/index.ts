import type { Handler } from '@tasklane/worker';
import { imageHandler } from './image.ts';
import { videoHandler } from './video.ts';

export { imageHandler, videoHandler };

/** The handlers the worker process runs: one per built-in task kind. */
export const builtInHandlers: Record<string, Handler> = {
  video: videoHandler,
  image: imageHandler,
};
