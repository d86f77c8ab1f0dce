import type { HandlerDefinition } from '@tasklane/worker';
import { simulate, type Simulation } from './simulate.ts';

const video: Simulation = {
  label: 'video',
  defaultSeconds: 8,
  stages: [
    [0, 'Analyzing prompt'],
    [20, 'Rendering frames'],
    [80, 'Encoding video'],
  ],
  result: (task) => ({ video_url: `https://cdn.example.com/videos/${task.id}.mp4` }),
};

/** Simulated Veo 3 video generation: `input.duration_seconds` (default 8) and `input.fail`. */
export const videoHandler: HandlerDefinition = {
  service: 'veo3',
  run: (task, ctx) => simulate(video, task, ctx),
};
