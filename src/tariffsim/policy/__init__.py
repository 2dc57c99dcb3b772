"""policy (WIP)"""
