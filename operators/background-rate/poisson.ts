/** P(X ≥ k) for X ~ Poisson(λ), summed in a stable way (1 − the lower terms, or the upper terms directly). */
export function poissonUpperTail(k: number, lambda: number): number {
  if (k <= 0) return 1;
  if (!(lambda > 0)) return 0;
  if (k <= lambda) {
    // Below the mean the tail is most of the mass: 1 − the k lower terms.
    let logTerm = -lambda;
    let lower = 0;
    for (let i = 0; i < k; i++) {
      lower += Math.exp(logTerm);
      logTerm += Math.log(lambda) - Math.log(i + 1);
    }
    return Math.min(1, Math.max(0, 1 - lower));
  }
  // Upper terms directly: term_k = e^-λ λ^k / k!, then ratios λ / (i + 1); enough terms for double precision.
  let logTerm = -lambda + k * Math.log(lambda) - logFactorial(k);
  let sum = 0;
  for (let i = k; i < k + 1000; i++) {
    const term = Math.exp(logTerm);
    sum += term;
    if (i > lambda && term < sum * 1e-16) break;
    logTerm += Math.log(lambda) - Math.log(i + 1);
  }
  return Math.min(1, sum);
}

function logFactorial(n: number): number {
  let sum = 0;
  for (let i = 2; i <= n; i++) sum += Math.log(i);
  return sum;
}
