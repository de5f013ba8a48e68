// Handlers of temporal.api.testservice.v1.TestService (what @temporalio/testing calls).
import type { Cluster } from './cluster.ts';
import { durationMs, timestampMs, toTimestamp } from './proto.ts';
import { advanceTime, type AutoSkipper } from './time-skipping.ts';
import type { Handler } from './workflow-service.ts';

export function testServiceHandlers(cluster: Cluster, autoSkipper: AutoSkipper): Record<string, Handler> {
  return {
    LockTimeSkipping: () => {
      cluster.timeSkippingLocks++;
      return {};
    },
    UnlockTimeSkipping: () => {
      cluster.timeSkippingLocks = Math.max(0, cluster.timeSkippingLocks - 1);
      autoSkipper.update();
      return {};
    },
    Sleep: async (request) => {
      await advanceTime(cluster, durationMs(request.duration) ?? 0);
      return {};
    },
    SleepUntil: async (request) => {
      await advanceTime(cluster, Math.max(0, (timestampMs(request.timestamp) ?? 0) - cluster.now()));
      return {};
    },
    UnlockTimeSkippingWithSleep: async (request) => {
      cluster.timeSkippingLocks = Math.max(0, cluster.timeSkippingLocks - 1);
      await advanceTime(cluster, durationMs(request.duration) ?? 0);
      return {};
    },
    GetCurrentTime: () => ({ time: toTimestamp(cluster.now()) }),
  };
}
