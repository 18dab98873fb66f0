/**
 * Kubernetes resource quantities as the capacity check needs them: memory in MiB, CPU in
 * millicores. Only the suffixes Kubernetes accepts are understood; anything else is an error
 * (a typo such as `128MB` would otherwise be read as bytes by the API server).
 */

const MEMORY_UNITS: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** Parses a memory quantity (`128Mi`, `1Gi`, `500M`) into MiB; throws on anything else. */
export function memoryMi(quantity: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity);
  if (!match) {
    throw new Error(
      `"${quantity}" is not a memory quantity; use a number with Ki, Mi, Gi (or k, M, G), e.g. 128Mi`,
    );
  }
  return (Number(match[1]) * MEMORY_UNITS[match[2] ?? ""]) / 1024 ** 2;
}

/** Parses a CPU quantity (`100m`, `0.5`, `2`) into millicores; throws on anything else. */
export function cpuMillis(quantity: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(m)?$/.exec(quantity);
  if (!match) {
    throw new Error(
      `"${quantity}" is not a CPU quantity; use cores or millicores, e.g. 0.5 or 500m`,
    );
  }
  return match[2] === "m" ? Number(match[1]) : Number(match[1]) * 1000;
}

/** True when the string is a valid memory quantity. */
export function isMemoryQuantity(quantity: string): boolean {
  try {
    memoryMi(quantity);
    return true;
  } catch {
    return false;
  }
}

/** Formats MiB for reports: `910Mi`, `7.6Gi`. */
export function formatMi(mi: number): string {
  return mi >= 1024 ? `${(mi / 1024).toFixed(1)}Gi` : `${Math.round(mi)}Mi`;
}
