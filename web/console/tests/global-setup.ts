import { setUp, tearDown } from './fixture';

// Playwright passes process.env from here to the test workers.
export default async function globalSetup(): Promise<() => Promise<void>> {
  const w = await setUp();
  process.env.OSPREY_WORLD = JSON.stringify(w);
  return () => tearDown(w);
}
