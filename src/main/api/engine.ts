/**
 * The engine entry points the API uses, in one place: the runner and the
 * planner. Nothing here may import electron.
 */
export { resumeRun, startRun } from '../runs/runner.js';
export { planJob } from '../engine/pipeline/plan.js';
