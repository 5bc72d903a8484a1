export interface Trail {
  name: string;
  km: number;
}

export const trails: Trail[] = [
  { name: 'Ridge Loop', km: 8.4 },
  { name: 'Cedar Falls', km: 5.1 },
  { name: 'Summit Spur', km: 12.9 },
];

export function formatKm(km: number): string {
  return `${km.toFixed(1)} km`;
}
