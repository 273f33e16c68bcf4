/** Pure bandit logic (no RxJS): the budget bandit and its variates. */
export { BudgetBandit, splitBudget, type ArmShare, type BanditPolicy, type BudgetBanditOptions, type BudgetBanditSnapshot } from './budget-bandit.js';
export { gammaVariate, standardNormal } from './gamma.js';
