// A module resolution hook for running Holdfast from a checkout: resolve @holdfast packages
// through their `holdfast:source` export condition (their TypeScript source).
export async function resolve(specifier, context, nextResolve) {
  if (context.conditions.includes('holdfast:source')) return nextResolve(specifier, context);
  return nextResolve(specifier, { ...context, conditions: [...context.conditions, 'holdfast:source'] });
}
