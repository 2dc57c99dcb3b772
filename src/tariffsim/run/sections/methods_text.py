"""The methods text of the report: the equations each model solves, with their sources."""

METHODS_HTML = """
<h3>Models</h3>
<p><b>Multi-sector general equilibrium</b> (Caliendo and Parro 2015, <i>Review of Economic Studies</i> 82(1), eqs. 10-14), in changes
("exact hat algebra"), with input-output links and trade deficits. For importer <i>n</i>, exporter <i>i</i>, sectors <i>j</i>, <i>k</i>:</p>
<pre>
c_hat[i,j] = w_hat[i]^va[i,j] * prod_k P_hat[i,k]^io[i,k,j]
P_hat[n,j] = ( sum_i pi[i,n,j] (tau_hat[i,n,j] c_hat[i,j])^-theta[j] )^(-1/theta[j])
pi1[i,n,j] = pi[i,n,j] (tau_hat c_hat[i,j] / P_hat[n,j])^-theta[j]
X1[n,j]    = sum_k io[n,j,k] sum_m X1[m,k] pi1[n,m,k] / (1 + t1[n,m,k]) + alpha[n,j] I1[n]
I1[n]      = w_hat[n] VA[n] + tariff revenue[n] + D1[n]
W_hat[n]   = (I1[n] / I0[n]) / prod_j P_hat[n,j]^alpha[n,j],   EV[n] = (W_hat[n] - 1) I0[n]
</pre>
<p>Numeraire: world value added. Deficits fixed at baseline (closure <code>fixed</code>) or zero (<code>balanced</code>);
a transfer T from <i>b</i> to <i>a</i> (host-nation support, the grant-equivalent of an investment pledge) sets
D1[a] += T, D1[b] -= T. Every solve reports its residual (table <code>ge_diagnostics</code>); an unconverged solve is an error.</p>
<p><b>Product-level partial equilibrium</b> (SMART-like; Laird and Yeats 1986, Jammes and Olarreaga 2005): exact CES across
sources with substitution elasticity sigma, import demand elasticity epsilon, export supply elasticity eta (default infinite).</p>
<p><b>Strategy</b>: best-response (optimal) tariffs maximise a government's real income with the others' tariffs fixed
(Ossa 2014, <i>AER</i> 104(12)); a Nash war iterates best responses to a fixed point; Nash bargaining maximises
(EV_a - d_a)^beta (EV_b - d_b)^(1-beta) over tariffs and transfers; the Pareto frontier traces the best EV of one
player for each EV of the other. The retaliation variant (one uniform tariff on named partners, others fixed) is the same optimiser with that control.</p>
<p><b>USTR April-2025 formula</b>: Delta tau = (m - x) / (epsilon phi m), epsilon = 4, phi = 0.25; announced rate =
max(10%, Delta tau / 2). <b>Effective tariff rate</b>: import-weighted average of the stacked statutory rates (2024 import weights).</p>
<p><b>Uncertainty</b>: Monte Carlo over the trade elasticities; bands are the 5th and 95th percentiles of welfare changes.</p>
"""
