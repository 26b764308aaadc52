export interface ClockReport { subscribers: number }
export async function productionClock(o: { subscribers: number; terraformDir: string; timestampsIndexed?: boolean }): Promise<ClockReport> {
  return { subscribers: o.subscribers };
}
export function formatClock(r: ClockReport): string {
  return JSON.stringify(r);
}
