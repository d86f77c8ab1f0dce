import type { HandlerDefinition } from '@tasklane/worker';
import { simulate, type Simulation } from './simulate.ts';

const image: Simulation = {
  label: 'image',
  defaultSeconds: 3,
  stages: [
    [0, 'Analyzing prompt'],
    [15, 'Generating image'],
    [85, 'Upscaling'],
  ],
  result: (task) => ({ image_url: `https://cdn.example.com/images/${task.id}.png` }),
};

/** Simulated Imagen image generation: `input.duration_seconds` (default 3) and `input.fail`. */
export const imageHandler: HandlerDefinition = {
  service: 'imagen',
  run: (task, ctx) => simulate(image, task, ctx),
};
