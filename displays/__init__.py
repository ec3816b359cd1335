"""displays"""
